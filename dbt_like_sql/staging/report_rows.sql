/*
table: staging.report_rows
group: staging
description: >
  Dòng đơn vị của báo cáo (Biểu 06) ghép với đơn vị trong agencies.csv ở mỗi lần chạy: theo
  mã, nếu không thì theo tên hoặc tên khác đang hiệu lực trong tháng báo cáo; một tên khác
  thêm sau này sẽ ghép được ở lần chạy sau. / Agency rows of the reports (Biểu 06) matched to
  agencies.csv at every run: by code, else by a name or alias in force in the report's
  month, so that an alias added later matches at the next run.
replace: months of month
columns:
  file_id: "Tệp báo cáo / Report file (meta.source_files)"
  relative_path: "Đường dẫn tệp báo cáo / Report file path"
  row_no: "Dòng trong tệp / Excel row"
  month: "Tháng báo cáo (ngày đầu tháng) / Report month (first day)"
  agency_name_in_report: "Đơn vị như ghi trong báo cáo / The unit as written in the report"
  agency_code: "Mã đơn vị đã ghép (NULL: chưa ghép được) / Matched agency code (NULL: none)"
  agency_resolved_by: "Cách ghép: code | name / How the agency was matched"
  received_total: "Tổng số hồ sơ nhận giải quyết / Dossiers to handle, in total"
  received_carried_over: "Từ kỳ trước / Carried over from the previous period"
  received_online: "Trong kỳ, trực tuyến / Received online in the period"
  received_in_person: "Trong kỳ, trực tiếp và bưu chính / Received in person or by post in the period"
  finished: "Đã giải quyết / Finished"
  finished_early: "Giải quyết trước hạn / Finished early"
  finished_on_time: "Giải quyết đúng hạn / Finished on time"
  quarantine_reason: "Lý do không tính: unknown_agency | ambiguous_agency | duplicate_agency (NULL: tính) / Why the row does not count (NULL: it counts)"
*/
WITH rows_in_window AS (
    SELECT *, date_trunc('month', report_month)::DATE AS month
    FROM raw.report_rows
    WHERE report_month >= $window_start AND report_month < $window_end
),

agency_names AS (
    SELECT agency_code, valid_from, valid_to, unnest(name_keys) AS name_key
    FROM core.agencies
),

by_name AS (
    SELECT report_row.file_id, report_row.row_no, min(agency.agency_code) AS agency_code,
           count(DISTINCT agency.agency_code) AS matches
    FROM rows_in_window AS report_row
    JOIN agency_names AS agency
        ON agency.name_key = report_row.unit_key
        AND coalesce(agency.valid_from, DATE '1900-01-01') <= last_day(report_row.month)
        AND coalesce(agency.valid_to, DATE '9999-12-31') >= report_row.month
    GROUP BY ALL
),

resolved AS (
    SELECT
        report_row.*,
        coalesce(by_code.agency_code,
                 CASE WHEN by_name.matches = 1 THEN by_name.agency_code END) AS agency_code,
        CASE WHEN by_code.agency_code IS NOT NULL THEN 'code'
             WHEN by_name.matches = 1 THEN 'name' END AS agency_resolved_by,
        by_code.agency_code IS NULL AND by_name.matches > 1 AS ambiguous
    FROM rows_in_window AS report_row
    LEFT JOIN core.agencies AS by_code
        ON by_code.agency_code = trim(report_row.agency_name_in_report)
    LEFT JOIN by_name USING (file_id, row_no)
)

SELECT
    file_id,
    relative_path,
    row_no,
    month,
    agency_name_in_report,
    agency_code,
    agency_resolved_by,
    received_total,
    received_carried_over,
    received_online,
    received_in_person,
    finished,
    finished_early,
    finished_on_time,
    CASE
        WHEN ambiguous THEN 'ambiguous_agency'
        WHEN agency_code IS NULL THEN 'unknown_agency'
        WHEN count(*) OVER (PARTITION BY file_id, agency_code) > 1 THEN 'duplicate_agency'
    END AS quarantine_reason
FROM resolved
