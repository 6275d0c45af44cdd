/*
table: marts.province_period_rates
group: marts
description: >
  Mọi chỉ số của §4 theo tỉnh và kỳ, theo địa giới thời điểm đó (as_was) và địa giới hiện hành
  34 tỉnh (current); là tỷ số của các tổng, không phải trung bình các tỷ lệ. Số thủ tục (DVCTT
  phát sinh hồ sơ trực tuyến, cung cấp toàn trình) đếm theo tỉnh × cấp × mã thủ tục rồi cộng
  các cấp. / Every metric of §4 per province and period, in the geography of the time (as_was)
  and in today's 34 provinces (current); ratios of summed counts, never averages of rates.
  Procedure counts (DVCTT with online dossiers, end-to-end provision) are distinct per
  province × level × procedure, then summed over levels.
replace: periods
grain: [geography, province_code, period_type, period_start, period_end]
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  count: [agencies, agencies_report_only, received, received_online, received_with_fee,
    paid_online, finished, finished_on_time, received_dvctt, received_online_dvctt,
    received_full, received_online_full, dvctt_with_online, dvctt_offered,
    full_online_eligible, full_online_offered]
  fraction: [online_share_all, online_share_dvctt, online_share_full, dvctt_uptake_rate,
    full_online_provision_rate, on_time_rate, online_payment_rate]
columns:
  province_code: "Mã tỉnh (GSO) / Province code (GSO)"
  province_name: "Tên tỉnh / Province name"
  geography: "Địa giới: as_was (thời điểm đó) | current (34 tỉnh) / Geography"
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
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
  dvctt_with_online: "Số DVCTT (tỉnh × cấp × thủ tục) có hồ sơ trực tuyến / DVCTT (province × level × procedure) with an online dossier"
  dvctt_offered: "Số DVCTT trong danh mục (tỉnh × cấp × thủ tục) / DVCTT in the catalogue (province × level × procedure)"
  full_online_eligible: "Số thủ tục đủ điều kiện toàn trình / Procedures eligible for end-to-end service"
  full_online_offered: "Số thủ tục đủ điều kiện đã cung cấp toàn trình / Eligible procedures offered end-to-end"
  online_share_all: "Tỷ lệ hồ sơ trực tuyến / Share of dossiers received online"
  online_share_dvctt: "Tỷ lệ hồ sơ trực tuyến của các DVCTT / Online share among DVCTT procedures"
  online_share_full: "Tỷ lệ hồ sơ trực tuyến của thủ tục toàn trình / Online share among end-to-end procedures"
  dvctt_uptake_rate: "Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến / Share of DVCTT with online dossiers"
  full_online_provision_rate: "Tỷ lệ thủ tục đủ điều kiện được cung cấp toàn trình / Share of eligible procedures offered end-to-end"
  on_time_rate: "Tỷ lệ giải quyết đúng hạn / Share of finished dossiers finished on time"
  online_payment_rate: "Tỷ lệ thanh toán trực tuyến / Share of dossiers with a fee paid online"
*/
WITH periods_in_window AS (
    SELECT period_type, period_start, period_end, geography_version
    FROM core.reporting_periods
    WHERE period_start < $window_end AND period_end >= $window_start
),

-- as_was: the province of the period's geography (agencies of the 63 provinces mapped onto
-- the 34 for periods ending after the reorganisation); current: always the 34
geographies AS (
    SELECT period.*, 'as_was' AS geography, period.geography_version AS province_version
    FROM periods_in_window AS period
    UNION ALL
    SELECT period.*, 'current', '2025'
    FROM periods_in_window AS period
),

agency_counts AS (
    SELECT
        agency.province_code,
        geography.geography,
        geography.province_version,
        rates.period_type,
        rates.period_start,
        rates.period_end,
        count(*) AS agencies,
        count(*) FILTER (WHERE rates.source = 'report') AS agencies_report_only,
        unnest(dossier_count_sums(rates))  -- the counts every level sums: dbt_like_sql/macros
    FROM geographies AS geography
    JOIN marts.agency_period_rates AS rates USING (period_type, period_start, period_end)
    JOIN core.agency_provinces AS agency
        ON agency.agency_code = rates.agency_code
        AND agency.geography_version = geography.province_version
    GROUP BY agency.province_code, geography.geography, geography.province_version,
             rates.period_type, rates.period_start, rates.period_end
),

-- distinct procedure counts are kept per province × level of the period's geography and
-- summed here; for the current geography the 63 provinces are mapped onto the 34
procedure_counts AS (
    SELECT
        CASE WHEN geography.province_version = procedures.geography_version
             THEN procedures.province_code
             ELSE mapping.new_province_code END AS province_code,
        geography.geography,
        geography.province_version,
        procedures.period_type,
        procedures.period_start,
        procedures.period_end,
        unnest(procedure_count_sums(procedures))
    FROM geographies AS geography
    JOIN core.province_level_procedures AS procedures
        USING (period_type, period_start, period_end, geography_version)
    LEFT JOIN core.province_mapping_2025 AS mapping
        ON mapping.old_province_code = procedures.province_code
    GROUP BY 1, 2, 3, 4, 5, 6  -- the columns before the sums
),

province_counts AS (
    SELECT
        province_code,
        geography,
        province_version,
        period_type,
        period_start,
        period_end,
        coalesce(agency_counts.agencies, 0) AS agencies,
        coalesce(agency_counts.agencies_report_only, 0) AS agencies_report_only,
        coalesce(agency_counts.received, 0) AS received,
        coalesce(agency_counts.received_online, 0) AS received_online,
        coalesce(agency_counts.received_with_fee, 0) AS received_with_fee,
        coalesce(agency_counts.paid_online, 0) AS paid_online,
        coalesce(agency_counts.finished, 0) AS finished,
        coalesce(agency_counts.finished_on_time, 0) AS finished_on_time,
        coalesce(agency_counts.received_dvctt, 0) AS received_dvctt,
        coalesce(agency_counts.received_online_dvctt, 0) AS received_online_dvctt,
        coalesce(agency_counts.received_full, 0) AS received_full,
        coalesce(agency_counts.received_online_full, 0) AS received_online_full,
        coalesce(procedure_counts.dvctt_with_online, 0) AS dvctt_with_online,
        coalesce(procedure_counts.dvctt_offered, 0) AS dvctt_offered,
        coalesce(procedure_counts.full_online_eligible, 0) AS full_online_eligible,
        coalesce(procedure_counts.full_online_offered, 0) AS full_online_offered
    FROM agency_counts
    FULL OUTER JOIN procedure_counts
        USING (province_code, geography, province_version, period_type, period_start, period_end)
)

SELECT
    province_counts.province_code,
    province.province_name,
    province_counts.geography,
    province_counts.period_type,
    province_counts.period_start,
    province_counts.period_end,
    province_counts.agencies,
    province_counts.agencies_report_only,
    province_counts.received,
    province_counts.received_online,
    province_counts.received_with_fee,
    province_counts.paid_online,
    province_counts.finished,
    province_counts.finished_on_time,
    province_counts.received_dvctt,
    province_counts.received_online_dvctt,
    province_counts.received_full,
    province_counts.received_online_full,
    province_counts.dvctt_with_online,
    province_counts.dvctt_offered,
    province_counts.full_online_eligible,
    province_counts.full_online_offered,
    unnest(metric_rates(province_counts))  -- the rates of DESIGN §4: dbt_like_sql/macros
FROM province_counts
LEFT JOIN core.provinces AS province
    ON province.province_code = province_counts.province_code
    AND province.geography_version = province_counts.province_version
