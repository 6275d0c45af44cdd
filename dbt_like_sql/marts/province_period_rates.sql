/*
table: marts.province_period_rates
group: marts
description: >
  Tỷ lệ theo tỉnh và kỳ, theo địa giới thời điểm đó (as_was) và địa giới hiện hành 34 tỉnh
  (current); là tỷ số của các tổng, không phải trung bình các tỷ lệ. / Rates per province and
  period, in the geography of the time (as_was) and in today's 34 provinces (current); ratios
  of summed counts, never averages of rates.
replace: periods
columns:
  province_code: "Mã tỉnh (GSO) / Province code (GSO)"
  province_name: "Tên tỉnh / Province name"
  geography: "Địa giới: as_was (thời điểm đó) | current (34 tỉnh) / Geography"
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  agencies: "Số đơn vị có số liệu / Agencies with figures"
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
WITH agency_rates_in_window AS (
    SELECT rates.*, period.geography_version
    FROM marts.agency_period_rates AS rates
    JOIN core.reporting_periods AS period USING (period_type, period_start, period_end)
    WHERE rates.period_start < $window_end AND rates.period_end >= $window_start
),

-- agencies of the 63-province era are mapped onto the 34 provinces for periods that end after
-- the reorganisation (as_was) and always for the current geography
legacy_agencies AS (
    SELECT agency.agency_code, mapping.new_province_code
    FROM core.agencies AS agency
    JOIN core.province_mapping_2025 AS mapping ON mapping.old_province_code = agency.province_code
    WHERE agency.valid_from < DATE '2025-07-01'
),

agency_rates_by_geography AS (
    SELECT
        rates.*,
        'as_was' AS geography,
        CASE WHEN rates.geography_version = '2025'
             THEN coalesce(legacy.new_province_code, rates.province_code)
             ELSE rates.province_code END AS geography_province_code,
        rates.geography_version AS names_from
    FROM agency_rates_in_window AS rates
    LEFT JOIN legacy_agencies AS legacy USING (agency_code)
    UNION ALL
    SELECT
        rates.*,
        'current',
        coalesce(legacy.new_province_code, rates.province_code),
        '2025'
    FROM agency_rates_in_window AS rates
    LEFT JOIN legacy_agencies AS legacy USING (agency_code)
),

province_counts AS (
    SELECT
        geography_province_code AS province_code,
        geography,
        names_from,
        period_type,
        period_start,
        period_end,
        count(DISTINCT agency_code) AS agencies,
        sum(received) AS received,
        sum(received_online) AS received_online,
        sum(received_with_fee) AS received_with_fee,
        sum(paid_online) AS paid_online,
        sum(finished) AS finished,
        sum(finished_on_time) AS finished_on_time
    FROM agency_rates_by_geography
    GROUP BY ALL
)

SELECT
    province_counts.province_code,
    province.province_name,
    province_counts.geography,
    province_counts.period_type,
    province_counts.period_start,
    province_counts.period_end,
    province_counts.agencies,
    province_counts.received,
    province_counts.received_online,
    province_counts.received_with_fee,
    province_counts.paid_online,
    province_counts.finished,
    province_counts.finished_on_time,
    province_counts.received_online / nullif(province_counts.received, 0) AS online_share_all,
    province_counts.finished_on_time / nullif(province_counts.finished, 0) AS on_time_rate,
    province_counts.paid_online / nullif(province_counts.received_with_fee, 0)
        AS online_payment_rate
FROM province_counts
LEFT JOIN core.provinces AS province
    ON province.province_code = province_counts.province_code
    AND province.geography_version = province_counts.names_from
