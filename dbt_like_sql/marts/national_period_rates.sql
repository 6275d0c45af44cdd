/*
table: marts.national_period_rates
group: marts
description: >
  Tỷ lệ toàn quốc theo kỳ: tỷ số của tổng số hồ sơ các tỉnh. / National rates per period:
  ratios of the provinces' summed counts.
replace: periods
columns:
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  provinces: "Số tỉnh có số liệu / Provinces with figures"
  received: "Hồ sơ tiếp nhận / Dossiers received"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  received_with_fee: "Hồ sơ tiếp nhận có phí / Received dossiers with a fee"
  paid_online: "Hồ sơ thanh toán trực tuyến / Dossiers paid online"
  finished: "Hồ sơ kết thúc xử lý trong kỳ / Dossiers finished in the period"
  finished_on_time: "Hồ sơ giải quyết đúng hạn / Dossiers finished on time"
  online_share_all: "Tỷ lệ hồ sơ trực tuyến / Share of dossiers received online"
  on_time_rate: "Tỷ lệ giải quyết đúng hạn / Share of finished dossiers finished on time"
  online_payment_rate: "Tỷ lệ thanh toán trực tuyến / Share of dossiers with a fee paid online"
*/
WITH national_counts AS (
    SELECT
        period_type,
        period_start,
        period_end,
        count(*) AS provinces,
        sum(received) AS received,
        sum(received_online) AS received_online,
        sum(received_with_fee) AS received_with_fee,
        sum(paid_online) AS paid_online,
        sum(finished) AS finished,
        sum(finished_on_time) AS finished_on_time
    FROM marts.province_period_rates
    WHERE geography = 'as_was'
      AND period_start < $window_end AND period_end >= $window_start
    GROUP BY ALL
)

SELECT
    *,
    received_online / nullif(received, 0) AS online_share_all,
    finished_on_time / nullif(finished, 0) AS on_time_rate,
    paid_online / nullif(received_with_fee, 0) AS online_payment_rate
FROM national_counts
