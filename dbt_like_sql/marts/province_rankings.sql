/*
table: marts.province_rankings
group: marts
description: >
  Xếp hạng tỉnh theo từng chỉ số của §4 và kỳ (giảm dần; đồng hạng lấy hạng nhỏ nhất; tỉnh có
  ít hơn min_dossiers hồ sơ không xếp hạng). Trước 01/07/2025 xếp hạng trong 63 tỉnh, từ đó
  trong 34 tỉnh (as_was); current xếp hạng 34 tỉnh cho mọi kỳ. / Provinces ranked per metric of
  §4 and period (descending; ties share the lowest rank; provinces under min_dossiers received
  dossiers are listed but not ranked). Before 2025-07-01 among the 63 provinces of the time,
  from then on among 34 (as_was); current ranks the 34 provinces for every period.
replace: periods
grain: [metric, geography, province_code, period_type, period_start, period_end]
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
  geography: "Địa giới: as_was | current / Geography"
  province_code: "Mã tỉnh (GSO) / Province code (GSO)"
  province_name: "Tên tỉnh / Province name"
  received: "Hồ sơ tiếp nhận trong kỳ / Dossiers received in the period"
  value: "Giá trị chỉ số / Value of the metric"
  ranked: "Có được xếp hạng / Whether the province is ranked"
  not_ranked_reason: "Lý do không xếp hạng / Why the province is not ranked"
  rank: "Thứ hạng (1 = cao nhất) / Rank (1 = highest)"
  n_ranked: "Số tỉnh được xếp hạng / Number of provinces ranked"
  is_top5: "Thuộc nhóm 5 tỉnh dẫn đầu / Among the top five"
  is_bottom5: "Thuộc nhóm 5 tỉnh cuối bảng / Among the bottom five"
  rank_prev: "Thứ hạng kỳ trước (NULL khi kỳ trước thuộc địa giới khác) / Rank in the previous period (NULL across the 2025 reorganisation in as_was)"
  value_prev: "Giá trị kỳ trước / Value in the previous period"
*/
-- one row per province × metric; a province without a value is still listed, unranked
WITH metric_values AS (
    SELECT province_code, province_name, geography, period_type, period_start, period_end,
           received, metric, value
    FROM marts.province_period_rates
    UNPIVOT INCLUDE NULLS (
        value FOR metric IN (
            online_share_all, online_share_dvctt, online_share_full, dvctt_uptake_rate,
            full_online_provision_rate, on_time_rate, online_payment_rate
        )
    )
    -- the window's periods and the previous periods their rank_prev reads
    JOIN periods_to_rank('core.reporting_periods', $window_start, $window_end)
        USING (period_type, period_start, period_end)
),

eligibility AS (
    SELECT
        *,
        not_ranked_reason(value, received, $min_dossiers) AS not_ranked_reason,
        -- provinces rank against the other provinces of their geography
        {'metric': metric, 'geography': geography, 'period_type': period_type,
         'period_start': period_start, 'period_end': period_end} AS ranking_group
    FROM metric_values
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

-- in as_was, a province code means another province on either side of 2025-07-01
with_previous_period AS (
    SELECT
        ranked.*,
        previous.rank AS rank_prev,
        previous.value AS value_prev
    FROM ranked
    JOIN core.reporting_periods AS period USING (period_type, period_start, period_end)
    LEFT JOIN ranked AS previous
        ON previous.metric = ranked.metric
        AND previous.geography = ranked.geography
        AND previous.province_code = ranked.province_code
        AND previous.period_type = ranked.period_type
        AND previous.period_start = period.previous_period_start
        AND previous.period_end = period.previous_period_end
        AND (ranked.geography = 'current'
             OR (previous.period_end < DATE '2025-07-01') = (ranked.period_end < DATE '2025-07-01'))
)

SELECT
    metric,
    period_type,
    period_start,
    period_end,
    geography,
    province_code,
    province_name,
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
