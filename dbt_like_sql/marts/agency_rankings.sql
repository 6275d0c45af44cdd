/*
table: marts.agency_rankings
group: marts
description: >
  Xếp hạng đơn vị trong tỉnh và cấp của mình theo từng chỉ số của §4 và kỳ (giảm dần; đồng
  hạng lấy hạng nhỏ nhất; đơn vị có ít hơn 10 hồ sơ tiếp nhận trong kỳ không xếp hạng), để
  mỗi tỉnh thấy 5 đơn vị dẫn đầu và 5 đơn vị cuối bảng. / Agencies ranked within their
  province and level per metric of §4 and period (descending; ties share the lowest rank;
  agencies with fewer than 10 received dossiers in the period are listed but not ranked), so
  that a provincial office sees its own top and bottom five.
replace: periods
grain: [metric, province_code, admin_level, agency_code, period_type, period_start, period_end]
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  count: [received, n_ranked]
  fraction: [value, value_prev]
  rank: [rank, rank_prev]
columns:
  metric: "Chỉ số / Metric"
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  province_code: "Mã tỉnh trong địa giới của kỳ / Province code in the period's geography"
  admin_level: "Cấp hành chính / Administrative level"
  agency_code: "Mã đơn vị / Agency code"
  agency_name: "Tên đơn vị / Agency name"
  received: "Hồ sơ tiếp nhận trong kỳ / Dossiers received in the period"
  value: "Giá trị chỉ số / Value of the metric"
  ranked: "Có được xếp hạng / Whether the agency is ranked"
  not_ranked_reason: "Lý do không xếp hạng / Why the agency is not ranked"
  rank: "Thứ hạng trong tỉnh và cấp (1 = cao nhất) / Rank within province and level (1 = highest)"
  n_ranked: "Số đơn vị được xếp hạng / Number of agencies ranked"
  is_top5: "Thuộc nhóm 5 đơn vị dẫn đầu / Among the top five"
  is_bottom5: "Thuộc nhóm 5 đơn vị cuối bảng / Among the bottom five"
  rank_prev: "Thứ hạng kỳ trước / Rank in the previous period"
  value_prev: "Giá trị kỳ trước / Value in the previous period"
*/
WITH ranking_rules AS (
    -- agencies are far smaller than provinces: a lower volume makes a rate meaningful
    SELECT 10 AS min_agency_dossiers
),

agency_values AS (
    SELECT
        rates.agency_code, rates.agency_name, rates.admin_level, rates.period_type,
        rates.period_start, rates.period_end, rates.received, rates.metric, rates.value,
        agency.province_code
    FROM marts.agency_period_rates
    UNPIVOT INCLUDE NULLS (
        value FOR metric IN (
            online_share_all, online_share_dvctt, online_share_full, dvctt_uptake_rate,
            full_online_provision_rate, on_time_rate, online_payment_rate
        )
    ) AS rates
    JOIN core.reporting_periods AS period USING (period_type, period_start, period_end)
    -- the window's periods and the previous periods their rank_prev reads
    JOIN periods_to_rank('core.reporting_periods', $window_start, $window_end)
        USING (period_type, period_start, period_end)
    JOIN core.agency_provinces AS agency
        ON agency.agency_code = rates.agency_code
        AND agency.geography_version = period.geography_version
),

eligibility AS (
    SELECT
        agency_values.*,
        not_ranked_reason(value, received, min_agency_dossiers) AS not_ranked_reason,
        -- agencies rank against the agencies of their province and administrative level
        {'metric': metric, 'province_code': province_code, 'admin_level': admin_level,
         'period_type': period_type, 'period_start': period_start, 'period_end': period_end}
            AS ranking_group
    FROM agency_values, ranking_rules
),

ranked AS (
    SELECT
        * EXCLUDE (ranking_group),
        not_ranked_reason IS NULL AS ranked,
        -- the ranking rules of DESIGN §4: dbt_like_sql/macros/rankings.sql
        rank_in_group(ranking_group, value, not_ranked_reason IS NULL) AS rank,
        rank_from_bottom_in_group(ranking_group, value, not_ranked_reason IS NULL)
            AS rank_from_bottom,
        ranked_in_group(ranking_group, value, not_ranked_reason IS NULL) AS n_ranked
    FROM eligibility
),

with_previous_period AS (
    SELECT
        ranked.*,
        previous.rank AS rank_prev,
        previous.value AS value_prev
    FROM ranked
    JOIN core.reporting_periods AS period USING (period_type, period_start, period_end)
    LEFT JOIN ranked AS previous
        ON previous.metric = ranked.metric
        AND previous.agency_code = ranked.agency_code
        AND previous.period_type = ranked.period_type
        AND previous.period_start = period.previous_period_start
        AND previous.period_end = period.previous_period_end
)

SELECT
    metric,
    period_type,
    period_start,
    period_end,
    province_code,
    admin_level,
    agency_code,
    agency_name,
    received,
    value,
    ranked,
    not_ranked_reason,
    rank,
    n_ranked,
    coalesce(rank <= 5, false) AS is_top5,
    coalesce(rank_from_bottom <= 5, false) AS is_bottom5,
    rank_prev,
    value_prev
FROM with_previous_period
WHERE period_start < $window_end AND period_end >= $window_start
