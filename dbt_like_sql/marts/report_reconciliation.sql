/*
table: marts.report_reconciliation
group: marts
description: >
  Đối chiếu báo cáo (Biểu 06) với hồ sơ đồng bộ theo đơn vị × tháng, ở những tháng có cả hai;
  số liệu hồ sơ được dùng trong các bảng tỷ lệ. Chênh lệch = báo cáo − hồ sơ. /
  Reports (Biểu 06) against synced dossiers per agency × month, where both exist; the dossier
  figures are the ones the rate tables use. Difference = report − dossiers.
replace: months of month
grain: [province_code, admin_level, agency_code, month]
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  count: [report_received, dossiers_received, received_diff, report_received_online,
    dossiers_received_online, received_online_diff, report_finished, dossiers_finished,
    finished_diff, report_finished_on_time, dossiers_finished_on_time,
    finished_on_time_diff]
columns:
  agency_code: "Mã đơn vị / Agency code"
  agency_name: "Tên đơn vị / Agency name"
  province_code: "Mã tỉnh / Province code"
  admin_level: "Cấp hành chính / Administrative level"
  month: "Tháng (ngày đầu tháng) / Month (first day)"
  report_file: "Tệp báo cáo / Report file"
  report_received: "Tiếp nhận theo báo cáo / Received, per the report"
  dossiers_received: "Tiếp nhận theo hồ sơ / Received, per the dossiers"
  received_diff: "Chênh lệch tiếp nhận / Difference in received"
  report_received_online: "Trực tuyến theo báo cáo / Received online, per the report"
  dossiers_received_online: "Trực tuyến theo hồ sơ / Received online, per the dossiers"
  received_online_diff: "Chênh lệch trực tuyến / Difference in received online"
  report_finished: "Đã giải quyết theo báo cáo / Finished, per the report"
  dossiers_finished: "Đã giải quyết theo hồ sơ / Finished, per the dossiers"
  finished_diff: "Chênh lệch đã giải quyết / Difference in finished"
  report_finished_on_time: "Giải quyết đúng hạn theo báo cáo / Finished on time, per the report"
  dossiers_finished_on_time: "Giải quyết đúng hạn theo hồ sơ / Finished on time, per the dossiers"
  finished_on_time_diff: "Chênh lệch đúng hạn / Difference in finished on time"
*/
WITH reconciled_months AS (
    SELECT agency_code, month, received, received_online, finished, finished_on_time
    FROM core.agency_month
    WHERE source = 'both' AND month >= $window_start AND month < $window_end
)

SELECT
    reconciled_months.agency_code,
    agency.agency_name,
    agency.province_code,
    agency.admin_level,
    reconciled_months.month,
    report.relative_path AS report_file,
    report.received AS report_received,
    reconciled_months.received AS dossiers_received,
    report.received - reconciled_months.received AS received_diff,
    report.received_online AS report_received_online,
    reconciled_months.received_online AS dossiers_received_online,
    report.received_online - reconciled_months.received_online AS received_online_diff,
    report.finished AS report_finished,
    reconciled_months.finished AS dossiers_finished,
    report.finished - reconciled_months.finished AS finished_diff,
    report.finished_on_time AS report_finished_on_time,
    reconciled_months.finished_on_time AS dossiers_finished_on_time,
    report.finished_on_time - reconciled_months.finished_on_time AS finished_on_time_diff
FROM reconciled_months
JOIN core.agency_report_month AS report USING (agency_code, month)
LEFT JOIN core.agencies AS agency USING (agency_code)
