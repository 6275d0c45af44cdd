/*
table: marts.data_quality
group: marts
description: >
  Chất lượng dữ liệu theo tệp nguồn: số dòng đọc, nạp, cách ly và lý do. Mỗi tệp: đọc = nạp +
  cách ly. / Data quality per source file: rows read, loaded and set aside, and why. For every
  file, rows read = rows loaded + rows quarantined.
replace: all
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  count: [rows_read, rows_loaded, rows_quarantined, dossiers_unknown_agency, channel_empty]
columns:
  relative_path: "Đường dẫn tệp trong thư mục landing / File path in the landing folder"
  kind: "Loại tệp: dossiers | reports | agencies | service_catalog | targets | fee_policies / Kind of file: dossier export, Biểu 06 report or reference file"
  export_date: "Ngày xuất dữ liệu (thư mục) / Export date (folder)"
  status: "Trạng thái: loading | loaded | failed | duplicate | skipped | superseded / Status"
  message: "Thông báo: cần sửa gì, vì sao không đọc / What to fix, for a failed file; why a skipped entry is not read"
  rows_read: "Số dòng đọc được / Rows read"
  rows_loaded: "Số dòng đã nạp / Rows loaded"
  rows_quarantined: "Số dòng bị cách ly / Rows set aside"
  quarantined_by_reason: "Số dòng cách ly theo lý do / Rows set aside, by reason"
  dossiers_unknown_agency: "Hồ sơ (bản mới nhất từ tệp này) không xác định được đơn vị / Dossiers whose latest snapshot, from this file, has an unknown agency"
  channel_empty: "Hồ sơ để trống kênh (tính là trực tiếp) / Loaded rows with an empty channel"
  report_rows_unmatched: "Dòng báo cáo chưa ghép được một đơn vị, theo lý do (sửa agencies.csv, tính ở lần chạy sau) / Report rows not matched to one agency, by reason (fix agencies.csv; they count from the next run)"
  report_sheet: "Trang tính đã đọc của báo cáo, dòng tiêu đề, các trang bỏ qua / Report: the sheet read, its header rows, the sheets passed over"
  failed_checks: "Kiểm tra chất lượng không đạt với tệp này (mức, tháng): chi tiết / Data-quality checks failing on this file (severity, month): details"
  loaded_at: "Thời điểm nạp / Loaded at"
*/
WITH reasons_per_file AS (
    SELECT file_id, reason, count(*) AS rows
    FROM (
        SELECT file_id, reason FROM quarantine.dossier_snapshots
        UNION ALL
        SELECT file_id, reason FROM quarantine.report_rows
    )
    GROUP BY ALL
),

reason_summary AS (
    SELECT file_id, string_agg(reason || ': ' || rows, ', ' ORDER BY reason) AS quarantined_by_reason
    FROM reasons_per_file
    GROUP BY file_id
),

unknown_agencies AS (
    SELECT source_file_id AS file_id, count(*) AS dossiers_unknown_agency
    FROM quarantine.dossiers
    GROUP BY ALL
),

empty_channels AS (
    SELECT file_id, count(*) AS channel_empty
    FROM raw.dossier_snapshots
    WHERE kenh_was_empty
    GROUP BY ALL
),

unmatched_report_rows AS (
    SELECT file_id, string_agg(quarantine_reason || ': ' || rows, ', '
                               ORDER BY quarantine_reason) AS report_rows_unmatched
    FROM (
        SELECT file_id, quarantine_reason, count(*) AS rows
        FROM staging.report_rows
        WHERE quarantine_reason IS NOT NULL
        GROUP BY ALL
    )
    GROUP BY file_id
),

report_sheets AS (
    SELECT file_id,
           'sheet "' || sheet_name || '", header rows ' || header_rows
           || coalesce('; passed over: ' || sheets_passed_over, '') AS report_sheet
    FROM raw.report_files
),

-- the latest evaluation of each check on each month; a failure that belongs to one file
-- (e.g. a report whose total row disagrees with its agency rows) is shown on that file
latest_check_results AS (
    SELECT *
    FROM meta.check_results
    QUALIFY checked_at = max(checked_at) OVER (PARTITION BY check_name, month)
),

failed_checks AS (
    SELECT file_id,
           string_agg(check_name || ' (' || severity || ', ' || strftime(month, '%Y-%m') || '): '
                      || detail, '; ' ORDER BY check_name, month) AS failed_checks
    FROM latest_check_results
    WHERE NOT passed AND file_id IS NOT NULL
    GROUP BY file_id
),

-- the reference files (agencies, catalogue, targets, fee policies) at their last load
reference_reasons AS (
    SELECT relative_path, string_agg(reason || ': ' || rows, ', ' ORDER BY reason) AS quarantined_by_reason
    FROM (
        SELECT relative_path, reason, count(*) AS rows
        FROM (
            SELECT relative_path, reason FROM quarantine.agencies
            UNION ALL
            SELECT relative_path, reason FROM quarantine.service_catalog
            UNION ALL
            SELECT relative_path, reason FROM quarantine.targets
            UNION ALL
            SELECT relative_path, reason FROM quarantine.fee_policies
        )
        GROUP BY ALL
    )
    GROUP BY relative_path
),

reference_files AS (
    SELECT
        reference_file.relative_path,
        reference_file.kind,
        NULL::DATE AS export_date,
        reference_file.status,
        reference_file.message,
        reference_file.rows_read,
        reference_file.rows_loaded,
        reference_file.rows_quarantined,
        reference_reasons.quarantined_by_reason,
        0 AS dossiers_unknown_agency,
        0 AS channel_empty,
        reference_file.loaded_at
    FROM meta.reference_files AS reference_file
    LEFT JOIN reference_reasons USING (relative_path)
)

SELECT
    source_file.relative_path,
    source_file.kind,
    source_file.export_date,
    source_file.status,
    source_file.message,
    source_file.rows_read,
    source_file.rows_loaded,
    source_file.rows_quarantined,
    reason_summary.quarantined_by_reason,
    coalesce(unknown_agencies.dossiers_unknown_agency, 0) AS dossiers_unknown_agency,
    coalesce(empty_channels.channel_empty, 0) AS channel_empty,
    unmatched_report_rows.report_rows_unmatched,
    report_sheets.report_sheet,
    failed_checks.failed_checks,
    source_file.loaded_at
FROM meta.source_files AS source_file
LEFT JOIN reason_summary USING (file_id)
LEFT JOIN unknown_agencies USING (file_id)
LEFT JOIN empty_channels USING (file_id)
LEFT JOIN unmatched_report_rows USING (file_id)
LEFT JOIN report_sheets USING (file_id)
LEFT JOIN failed_checks USING (file_id)

-- by name: a reference file has no report sheet, unmatched report rows or failing checks
UNION ALL BY NAME

SELECT * FROM reference_files
