/*
table: marts.national_period_rates
group: marts
description: >
  Mọi chỉ số của §4 toàn quốc theo kỳ: tỷ số của tổng số liệu các tỉnh (địa giới thời điểm
  đó); số thủ tục là tổng số thủ tục khác nhau của các tỉnh. / Every metric of §4 nationally
  per period: ratios of the provinces' summed counts (geography of the time); procedure
  counts are sums of the provinces' distinct counts.
replace: periods
grain: [period_type, period_start, period_end]
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  count: [provinces, agencies, agencies_report_only, received, received_online,
    received_with_fee, paid_online, finished, finished_on_time, received_dvctt,
    received_online_dvctt, received_full, received_online_full, dvctt_with_online,
    dvctt_offered, full_online_eligible, full_online_offered]
  fraction: [online_share_all, online_share_dvctt, online_share_full, dvctt_uptake_rate,
    full_online_provision_rate, on_time_rate, online_payment_rate]
columns:
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  provinces: "Số tỉnh có số liệu / Provinces with figures"
  agencies: "Số đơn vị có số liệu / Agencies with figures"
  agencies_report_only: "Số đơn vị chỉ có số liệu báo cáo / Agencies with figures from reports only"
  received: "Hồ sơ tiếp nhận / Dossiers received"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  received_with_fee: "Hồ sơ tiếp nhận có phí / Received dossiers with a fee"
  paid_online: "Hồ sơ thanh toán trực tuyến / Dossiers paid online"
  finished: "Hồ sơ kết thúc xử lý trong kỳ / Dossiers finished in the period"
  finished_on_time: "Hồ sơ giải quyết đúng hạn / Dossiers finished on time"
  received_dvctt: "Hồ sơ tiếp nhận của thủ tục là DVCTT / Received dossiers of DVCTT procedures"
  received_online_dvctt: "Hồ sơ trực tuyến của thủ tục là DVCTT / Online dossiers of DVCTT procedures"
  received_full: "Hồ sơ tiếp nhận của thủ tục toàn trình / Received dossiers of end-to-end procedures"
  received_online_full: "Hồ sơ trực tuyến của thủ tục toàn trình / Online dossiers of end-to-end procedures"
  dvctt_with_online: "Tổng số DVCTT của các tỉnh có hồ sơ trực tuyến / Sum of the provinces' DVCTT with an online dossier"
  dvctt_offered: "Tổng số DVCTT trong danh mục các tỉnh / Sum of the provinces' DVCTT in the catalogue"
  full_online_eligible: "Tổng số thủ tục đủ điều kiện toàn trình / Sum of procedures eligible end-to-end"
  full_online_offered: "Tổng số thủ tục đủ điều kiện đã cung cấp toàn trình / Sum of eligible procedures offered end-to-end"
  online_share_all: "Tỷ lệ hồ sơ trực tuyến / Share of dossiers received online"
  online_share_dvctt: "Tỷ lệ hồ sơ trực tuyến của các DVCTT / Online share among DVCTT procedures"
  online_share_full: "Tỷ lệ hồ sơ trực tuyến của thủ tục toàn trình / Online share among end-to-end procedures"
  dvctt_uptake_rate: "Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến / Share of DVCTT with online dossiers"
  full_online_provision_rate: "Tỷ lệ thủ tục đủ điều kiện được cung cấp toàn trình / Share of eligible procedures offered end-to-end"
  on_time_rate: "Tỷ lệ giải quyết đúng hạn / Share of finished dossiers finished on time"
  online_payment_rate: "Tỷ lệ thanh toán trực tuyến / Share of dossiers with a fee paid online"
*/
WITH national_counts AS (
    SELECT
        period_type,
        period_start,
        period_end,
        count(*) FILTER (WHERE agencies > 0) AS provinces,
        sum(agencies) AS agencies,
        sum(agencies_report_only) AS agencies_report_only,
        unnest(dossier_count_sums(province)),  -- the counts every level sums: dbt_like_sql/macros
        unnest(procedure_count_sums(province))
    FROM marts.province_period_rates AS province
    WHERE geography = 'as_was'
      AND period_start < $window_end AND period_end >= $window_start
    GROUP BY period_type, period_start, period_end
)

SELECT
    *,
    unnest(metric_rates(national_counts))  -- the rates of DESIGN §4: dbt_like_sql/macros
FROM national_counts
