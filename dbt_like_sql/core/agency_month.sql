/*
table: core.agency_month
group: core
description: >
  Số hồ sơ theo đơn vị × tháng từ hồ sơ đồng bộ, hoặc từ báo cáo (Biểu 06) với đơn vị không
  đồng bộ hồ sơ trong tháng; khi có cả hai, số liệu hồ sơ được tính (đối chiếu ở
  marts.report_reconciliation). / Counts per agency × month from the synced dossiers, or from
  the reports (Biểu 06) for agencies that synced no dossiers that month; where both exist the
  dossier records count (compared in marts.report_reconciliation).
replace: months of month
columns:
  agency_code: "Mã đơn vị / Agency code"
  month: "Tháng (ngày đầu tháng) / Month (first day)"
  source: "Nguồn: dossiers | report | both (có cả hai, tính theo hồ sơ) / Source: both = a report exists too, dossiers count"
  received: "Hồ sơ tiếp nhận / Dossiers received"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  received_with_fee: "Hồ sơ tiếp nhận có phí (NULL với báo cáo) / Received dossiers with a fee (NULL from reports)"
  paid_online: "Hồ sơ thanh toán trực tuyến (NULL với báo cáo) / Dossiers paid online (NULL from reports)"
  channel_empty: "Hồ sơ để trống kênh (NULL với báo cáo) / Dossiers with an empty channel (NULL from reports)"
  finished: "Hồ sơ kết thúc xử lý trong tháng / Dossiers finished in the month"
  finished_on_time: "Hồ sơ giải quyết đúng hạn / Dossiers finished on time"
*/
WITH dossier_months AS (
    SELECT
        agency_code,
        month,
        sum(received) AS received,
        sum(received_online) AS received_online,
        sum(received_with_fee) AS received_with_fee,
        sum(paid_online) AS paid_online,
        sum(channel_empty) AS channel_empty,
        sum(finished) AS finished,
        sum(finished_on_time) AS finished_on_time
    FROM core.agency_procedure_month
    WHERE month >= $window_start AND month < $window_end
    GROUP BY ALL
),

report_months AS (
    SELECT agency_code, month, received, received_online, finished, finished_on_time
    FROM core.agency_report_month
    WHERE month >= $window_start AND month < $window_end
)

SELECT
    agency_code,
    month,
    CASE
        WHEN report_months.agency_code IS NULL THEN 'dossiers'
        WHEN dossier_months.agency_code IS NULL THEN 'report'
        ELSE 'both'
    END AS source,
    coalesce(dossier_months.received, report_months.received) AS received,
    coalesce(dossier_months.received_online, report_months.received_online) AS received_online,
    dossier_months.received_with_fee,
    dossier_months.paid_online,
    dossier_months.channel_empty,
    coalesce(dossier_months.finished, report_months.finished) AS finished,
    coalesce(dossier_months.finished_on_time, report_months.finished_on_time)
        AS finished_on_time
FROM dossier_months
FULL OUTER JOIN report_months USING (agency_code, month)
