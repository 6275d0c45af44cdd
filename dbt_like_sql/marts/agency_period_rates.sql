/*
table: marts.agency_period_rates
group: marts
description: >
  Tỷ lệ hồ sơ trực tuyến, đúng hạn, thanh toán trực tuyến theo đơn vị và kỳ (tháng, lũy kế,
  năm). / Online, on-time and online-payment rates per agency and period (month, year to
  date, year).
replace: periods
columns:
  agency_code: "Mã đơn vị / Agency code"
  agency_name: "Tên đơn vị / Agency name"
  admin_level: "Cấp hành chính: province | district | commune / Administrative level"
  province_code: "Mã tỉnh (GSO, địa giới thời điểm đó) / Province code (GSO, geography of the time)"
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  received: "Hồ sơ tiếp nhận / Dossiers received"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  received_with_fee: "Hồ sơ tiếp nhận có phí / Received dossiers with a fee"
  paid_online: "Hồ sơ thanh toán trực tuyến / Dossiers paid online"
  channel_empty: "Hồ sơ để trống kênh / Dossiers with an empty channel"
  finished: "Hồ sơ kết thúc xử lý trong kỳ / Dossiers finished in the period"
  finished_on_time: "Hồ sơ giải quyết đúng hạn / Dossiers finished on time"
  online_share_all: "Tỷ lệ hồ sơ trực tuyến / Share of dossiers received online"
  on_time_rate: "Tỷ lệ giải quyết đúng hạn / Share of finished dossiers finished on time"
  online_payment_rate: "Tỷ lệ thanh toán trực tuyến / Share of dossiers with a fee paid online"
  source: "Nguồn số liệu: dossiers | report | both / Source of the figures"
*/
WITH periods_in_window AS (
    SELECT period_type, period_start, period_end
    FROM core.reporting_periods
    WHERE period_start < $window_end AND period_end >= $window_start
),

agency_counts AS (
    SELECT
        counts.agency_code,
        period.period_type,
        period.period_start,
        period.period_end,
        sum(counts.received) AS received,
        sum(counts.received_online) AS received_online,
        sum(counts.received_with_fee) AS received_with_fee,
        sum(counts.paid_online) AS paid_online,
        sum(counts.channel_empty) AS channel_empty,
        sum(counts.finished) AS finished,
        sum(counts.finished_on_time) AS finished_on_time
    FROM periods_in_window AS period
    JOIN core.agency_procedure_month AS counts
        ON counts.month BETWEEN period.period_start AND period.period_end
    GROUP BY ALL
)

SELECT
    agency.agency_code,
    agency.agency_name,
    agency.admin_level,
    agency.province_code,
    agency_counts.period_type,
    agency_counts.period_start,
    agency_counts.period_end,
    agency_counts.received,
    agency_counts.received_online,
    agency_counts.received_with_fee,
    agency_counts.paid_online,
    agency_counts.channel_empty,
    agency_counts.finished,
    agency_counts.finished_on_time,
    agency_counts.received_online / nullif(agency_counts.received, 0) AS online_share_all,
    agency_counts.finished_on_time / nullif(agency_counts.finished, 0) AS on_time_rate,
    agency_counts.paid_online / nullif(agency_counts.received_with_fee, 0) AS online_payment_rate,
    'dossiers' AS source
FROM agency_counts
JOIN core.agencies AS agency USING (agency_code)
