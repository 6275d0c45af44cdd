/*
table: core.agency_procedure_month
group: core
description: >
  Số hồ sơ theo đơn vị × thủ tục × tháng: tiếp nhận theo tháng tiếp nhận, giải quyết theo
  tháng kết thúc xử lý. Các kỳ lũy kế và năm là tổng của các tháng. /
  Dossier counts per agency × procedure × month: receptions by month received, completions
  by month processing finished. Year-to-date and year figures are sums of these months.
replace: months of month
columns:
  agency_code: "Mã đơn vị / Agency code"
  ma_tthc: "Mã thủ tục ('' nếu thiếu) / Procedure code ('' when missing)"
  month: "Tháng (ngày đầu tháng) / Month (first day)"
  received: "Hồ sơ tiếp nhận (trừ từ chối tiếp nhận) / Dossiers received (refused at intake excluded)"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  received_with_fee: "Hồ sơ tiếp nhận có phí, lệ phí / Received dossiers with a fee"
  paid_online: "Hồ sơ có phí đã thanh toán trực tuyến / Dossiers with a fee paid online"
  channel_empty: "Hồ sơ để trống kênh (tính là trực tiếp) / Dossiers with an empty channel (counted in person)"
  finished: "Hồ sơ kết thúc xử lý trong tháng / Dossiers whose processing finished in the month"
  finished_on_time: "Hồ sơ kết thúc đúng hoặc trước hạn / Dossiers finished on or before their due date"
*/
-- not materialized: both branches read a few columns of it, a copy of whole rows costs more
WITH valid_dossiers AS NOT MATERIALIZED (
    SELECT *, coalesce(ma_tthc, '') AS procedure_code
    FROM staging.dossiers
    WHERE quarantine_reason IS NULL
),

receptions AS (
    SELECT
        agency_code,
        procedure_code AS ma_tthc,
        received_month AS month,
        count(*) AS received,
        count(*) FILTER (WHERE kenh_thuc_hien = 2) AS received_online,
        count(*) FILTER (WHERE fee_total > 0) AS received_with_fee,
        count(*) FILTER (WHERE fee_total > 0 AND thanh_toan_truc_tuyen IN (1, 2)) AS paid_online,
        count(*) FILTER (WHERE kenh_was_empty) AS channel_empty
    FROM valid_dossiers
    WHERE trang_thai <> 3  -- refused at intake: never received (DESIGN §4)
      AND received_month >= $window_start AND received_month < $window_end
    GROUP BY ALL
),

completions AS (
    SELECT
        agency_code,
        procedure_code AS ma_tthc,
        finished_month AS month,
        count(*) AS finished,
        count(*) FILTER (WHERE ngay_ket_thuc_xu_ly <= ngay_hen_tra) AS finished_on_time
    FROM valid_dossiers
    WHERE finished_month >= $window_start AND finished_month < $window_end
    GROUP BY ALL
)

SELECT
    agency_code,
    ma_tthc,
    month,
    coalesce(receptions.received, 0) AS received,
    coalesce(receptions.received_online, 0) AS received_online,
    coalesce(receptions.received_with_fee, 0) AS received_with_fee,
    coalesce(receptions.paid_online, 0) AS paid_online,
    coalesce(receptions.channel_empty, 0) AS channel_empty,
    coalesce(completions.finished, 0) AS finished,
    coalesce(completions.finished_on_time, 0) AS finished_on_time
FROM receptions
FULL OUTER JOIN completions USING (agency_code, ma_tthc, month)
