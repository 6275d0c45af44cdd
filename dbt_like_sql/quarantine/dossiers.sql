/*
table: quarantine.dossiers
group: staging
description: >
  Hồ sơ bị cách ly sau khi ghép bản ghi mới nhất (vd. không xác định được đơn vị). /
  Dossiers set aside after their latest snapshot was chosen (e.g. the agency is unknown).
replace: months of received_month
columns:
  ma_ho_so: "Mã hồ sơ / Dossier id"
  received_month: "Tháng tiếp nhận / Month of reception"
  source_file_id: "Tệp nguồn / Source file (meta.source_files)"
  source_line_no: "Vị trí trong tệp / Position in the file"
  reason: "Mã lý do / Reason code"
*/
SELECT
    ma_ho_so,
    received_month,
    source_file_id,
    source_line_no,
    quarantine_reason AS reason
FROM staging.dossiers
WHERE quarantine_reason IS NOT NULL
  AND received_month >= $window_start AND received_month < $window_end
