/*
table: core.agency_report_month
group: core
description: >
  Số liệu báo cáo (Biểu 06) theo đơn vị × tháng, quy về các chỉ số của §4: tiếp nhận = trực
  tuyến + trực tiếp/bưu chính trong kỳ (không tính kỳ trước chuyển sang), đúng hạn = trước
  hạn + đúng hạn. Chỉ các dòng đã ghép được một đơn vị (staging.report_rows). Nếu một đơn vị
  có nhiều dòng trong tháng, lấy dòng của tệp nạp sau cùng. /
  Report (Biểu 06) figures per agency × month in the terms of §4: received = in-period online
  + in person/postal (carried-over excluded), finished on time = early + on time. Only rows
  matched to one agency (staging.report_rows). When an agency has several rows in a month,
  the row of the file loaded last counts.
replace: months of month
columns:
  agency_code: "Mã đơn vị / Agency code"
  month: "Tháng báo cáo (ngày đầu tháng) / Report month (first day)"
  relative_path: "Tệp báo cáo / Report file"
  row_no: "Dòng trong tệp / Row in the file"
  received: "Hồ sơ tiếp nhận trong kỳ / Dossiers received in the period"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  finished: "Hồ sơ đã giải quyết / Dossiers finished"
  finished_on_time: "Hồ sơ giải quyết trước và đúng hạn / Dossiers finished early or on time"
*/
WITH report_rows_in_window AS (
    SELECT *
    FROM staging.report_rows
    WHERE month >= $window_start AND month < $window_end
      AND quarantine_reason IS NULL
)

SELECT
    agency_code,
    month,
    relative_path,
    row_no,
    coalesce(received_online, 0) + coalesce(received_in_person, 0) AS received,
    coalesce(received_online, 0) AS received_online,
    coalesce(finished, 0) AS finished,
    coalesce(finished_early, 0) + coalesce(finished_on_time, 0) AS finished_on_time
FROM report_rows_in_window
QUALIFY row_number() OVER (
    PARTITION BY agency_code, month ORDER BY file_id DESC NULLS LAST, row_no
) = 1
