/*
table: staging.dossiers
group: staging
description: >
  Hồ sơ: bản ghi mới nhất của mỗi MaHoSo, gán vào tháng tiếp nhận và đơn vị xử lý. /
  Dossiers: the latest snapshot of each MaHoSo, assigned to its month of reception and its
  handling agency.
replace: months of received_month
incremental: ma_ho_so
# fixed rather than chosen as each row group is written (a sixth of writing a national month)
compression:
  fsst: [ma_ho_so]
  dictionary: [agency_code, agency_resolved_by, ma_tthc, ma_linh_vuc, quarantine_reason]
columns:
  ma_ho_so: "Mã hồ sơ / Dossier id (MaHoSo)"
  agency_code: "Mã đơn vị xử lý đã xác định / Resolved handling agency code (NULL: unknown)"
  agency_resolved_by: "Cách xác định đơn vị: ma_don_vi_xu_ly | ma_ho_so_prefix | name / How the agency was resolved"
  ma_tthc: "Mã thủ tục hành chính / Procedure code (MaTTHC)"
  ma_linh_vuc: "Mã lĩnh vực / Field code (MaLinhVuc)"
  kenh_thuc_hien: "Kênh: 1 trực tiếp, 2 trực tuyến, 3 bưu chính / Channel: 1 in person, 2 online, 3 post"
  kenh_was_empty: "Kênh để trống trong tệp (tính là trực tiếp) / Channel was empty in the export (counted as in person)"
  ngay_tiep_nhan: "Ngày tiếp nhận (giờ Việt Nam) / Received at (Vietnam local time)"
  received_month: "Tháng tiếp nhận (ngày đầu tháng) / Month of reception (first day)"
  ngay_hen_tra: "Ngày hẹn trả / Due at"
  ngay_ket_thuc_xu_ly: "Ngày kết thúc xử lý / Processing finished at"
  finished_month: "Tháng kết thúc xử lý / Month processing finished (first day)"
  ngay_tra: "Ngày trả kết quả / Result returned at"
  trang_thai: "Trạng thái hồ sơ (1–10) / Dossier status (1–10)"
  thanh_toan_truc_tuyen: "Thanh toán trực tuyến: 0 không, 1 Cổng quốc gia, 2 Cổng tỉnh / Paid online: 0 no, 1 national portal, 2 provincial portal"
  fee_total: "Tổng phí, lệ phí (đồng) / Total fees (VND)"
  source_file_id: "Tệp nguồn của bản ghi mới nhất / Source file of the latest snapshot (meta.source_files)"
  source_line_no: "Vị trí trong tệp nguồn / Position in the source file"
  snapshots: "Số bản ghi của hồ sơ đã nhận / Snapshots received for this dossier"
  quarantine_reason: "Lý do cách ly (NULL: hợp lệ) / Why the dossier is set aside (NULL: valid)"
*/
-- the snapshots that put a dossier in this run: on a full run those received in the window; on
-- an incremental run ($after_file_id > 0, models/sql_models.py) those of the files loaded
-- since the window was last computed, whatever month they say: the winner's month is checked
-- after the ranking (latest_snapshots_in_window), and a file filter skips the older files'
-- blocks where a filter on the month and then on those ids scanned the month twice. Each
-- branch is empty on the other kind of run: DuckDB does not fold `$after_file_id = 0 OR ...`
-- and would otherwise match every snapshot against all of them. Dossiers are told apart by
-- dossier_key, their MaHoSo as a number (warehouse.DOSSIER_KEY): grouping and joining millions
-- of snapshots on text took a third longer. These narrow columns are read again where used
-- rather than kept (NOT MATERIALIZED): DuckDB would otherwise keep every snapshot of the
-- warehouse, or of the month, in memory
WITH snapshots AS NOT MATERIALIZED (
    SELECT
        dossier_key, file_id, line_no, rowid AS row_id,
        ($after_file_id = 0
         AND ngay_tiep_nhan >= $window_start AND ngay_tiep_nhan < $window_end)
        OR ($after_file_id > 0 AND file_id > $after_file_id) AS brought_by_this_run
    FROM raw.dossier_snapshots
),

snapshots_of_this_run AS NOT MATERIALIZED (
    SELECT * FROM snapshots WHERE brought_by_this_run
),

-- the other snapshots of the same dossiers, whatever their month or file: a dossier is ranked
-- on all of its snapshots. Taking them apart from this run's own spares a distinct list of
-- the run's dossiers and a match of every snapshot against it (on a national month, the
-- window's 10 M snapshots are all there is). When the run brought every snapshot there is,
-- its dossiers are not listed at all: DuckDB hashes the run's keys before it looks for
-- other snapshots, even where it knows there are none (1–2 s of a national month)
their_other_snapshots AS (
    SELECT * FROM snapshots
    WHERE brought_by_this_run IS NOT TRUE
      AND dossier_key IN (
          SELECT dossier_key FROM snapshots_of_this_run
          WHERE EXISTS (SELECT 1 FROM snapshots WHERE brought_by_this_run IS NOT TRUE))
),

-- the load order of the loaded files: export folder date, then file name (DESIGN §3.2),
-- from the registry rather than from every snapshot; a file still `loading` (stored piece by
-- piece, ingest/registry.py) has no rank, so none of its snapshots is ranked
file_order AS (
    SELECT file_id,
           row_number() OVER (
               ORDER BY export_date, parse_filename(relative_path, false, 'forward_slash')
           ) AS file_rank
    FROM meta.source_files
    WHERE kind = 'dossiers' AND status = 'loaded'
),

-- the latest snapshot wins: its place in the load order (the file, then the line within the
-- file, as one number) is found on narrow columns, keeping only the row id of the winner, and
-- only the winning rows are read whole; ranking whole rows needed twice the memory at national
-- scale, and joining back on (file, line) instead of the row id cost a quarter of the model
-- (benchmarks/RESULTS.md)
latest_rows AS (
    SELECT
        snapshot.dossier_key,
        count(*) AS snapshots,
        max_by(snapshot.row_id, file_order.file_rank * 4294967296 + snapshot.line_no)
            AS latest_row
    FROM (
        SELECT * FROM snapshots_of_this_run
        UNION ALL
        SELECT * FROM their_other_snapshots
    ) AS snapshot
    JOIN file_order USING (file_id)
    GROUP BY snapshot.dossier_key
),

latest_snapshots AS (
    SELECT snapshot.*, latest_rows.snapshots
    FROM raw.dossier_snapshots AS snapshot
    JOIN latest_rows ON latest_rows.latest_row = snapshot.rowid
),

latest_snapshots_in_window AS (
    SELECT * FROM latest_snapshots
    WHERE ngay_tiep_nhan >= $window_start AND ngay_tiep_nhan < $window_end
),

agencies_in_force AS (
    SELECT agency_code, valid_from, valid_to, unnest(name_keys) AS name_key
    FROM core.agencies
),

-- the days on which the agencies bearing a name may change: each validity's first day and
-- the day after its last
name_changes AS (
    SELECT name_key, coalesce(valid_from, DATE '1900-01-01') AS changed_on
    FROM agencies_in_force
    UNION
    SELECT name_key, coalesce(valid_to, DATE '9999-12-31') + 1
    FROM agencies_in_force
),

-- from one change to the day before the next, the same agencies bear the name (the last
-- period, open-ended, has none)
name_periods AS (
    SELECT
        name_key,
        changed_on AS period_start,
        lead(changed_on) OVER (PARTITION BY name_key ORDER BY changed_on) - 1 AS period_end
    FROM name_changes
),

-- DESIGN §3.2: a name resolves a dossier received while exactly one agency bears it. The
-- periods of one agency per name come from the agencies alone; asking it of each unresolved
-- dossier read the ranked rows twice, and DuckDB kept all of them, every column, in memory to
-- read them a second time
unique_names_in_force AS (
    SELECT
        period.name_key, period.period_start, period.period_end,
        any_value(agency.agency_code) AS agency_code
    FROM name_periods AS period
    JOIN agencies_in_force AS agency
        ON agency.name_key = period.name_key
        AND period.period_start BETWEEN coalesce(agency.valid_from, DATE '1900-01-01')
                                    AND coalesce(agency.valid_to, DATE '9999-12-31')
    GROUP BY ALL
    HAVING count(DISTINCT agency.agency_code) = 1
),

-- DESIGN §3.2: MaDonViXuLy first, then the MaHoSo prefix, then the agency's name; the prefix
-- is cut only from the MaHoSo of dossiers the code did not resolve (most have a valid code)
resolved AS (
    SELECT
        snapshot.*,
        by_code.agency_code AS agency_by_code,
        by_prefix.agency_code AS agency_by_prefix,
        by_name.agency_code AS agency_by_name
    FROM latest_snapshots_in_window AS snapshot
    LEFT JOIN core.agencies AS by_code
        ON by_code.agency_code = snapshot.ma_don_vi_xu_ly
    LEFT JOIN core.agencies AS by_prefix
        ON by_prefix.agency_code = CASE WHEN by_code.agency_code IS NULL
                                        THEN split_part(snapshot.ma_ho_so, '-', 1) END
    LEFT JOIN unique_names_in_force AS by_name
        ON by_name.name_key = CASE WHEN by_code.agency_code IS NULL
                                    AND by_prefix.agency_code IS NULL
                                   THEN name_key(snapshot.don_vi_xu_ly) END
        AND snapshot.ngay_tiep_nhan::DATE BETWEEN by_name.period_start AND by_name.period_end
)

SELECT
    resolved.ma_ho_so,
    coalesce(agency_by_code, agency_by_prefix, agency_by_name) AS agency_code,
    CASE
        WHEN agency_by_code IS NOT NULL THEN 'ma_don_vi_xu_ly'
        WHEN agency_by_prefix IS NOT NULL THEN 'ma_ho_so_prefix'
        WHEN agency_by_name IS NOT NULL THEN 'name'
    END AS agency_resolved_by,
    ma_tthc,
    ma_linh_vuc,
    kenh_thuc_hien,
    kenh_was_empty,
    ngay_tiep_nhan,
    date_trunc('month', ngay_tiep_nhan)::DATE AS received_month,
    ngay_hen_tra,
    ngay_ket_thuc_xu_ly,
    date_trunc('month', ngay_ket_thuc_xu_ly)::DATE AS finished_month,
    ngay_tra,
    trang_thai,
    thanh_toan_truc_tuyen,
    fee_total,
    file_id AS source_file_id,
    line_no AS source_line_no,
    snapshots,
    CASE WHEN coalesce(agency_by_code, agency_by_prefix, agency_by_name) IS NULL
         THEN 'unknown_agency' END AS quarantine_reason
FROM resolved
