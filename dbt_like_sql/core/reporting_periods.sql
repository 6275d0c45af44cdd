/*
table: core.reporting_periods
group: core
description: >
  Các kỳ báo cáo (tháng, lũy kế từ đầu năm, năm) từ tháng đầu tiên đến tháng cuối cùng có
  dữ liệu. / Reporting periods (month, year to date, year) from the first to the last month
  with data.
replace: all
columns:
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  geography_version: "Địa giới của kỳ: legacy (63 tỉnh) | 2025 (34 tỉnh) / Geography in force at the period's end"
  previous_period_start: "Ngày đầu kỳ trước (tháng trước, lũy kế ngắn hơn một tháng, năm trước; NULL với lũy kế tháng 1) / First day of the previous period (month before, year to date one month shorter, year before; NULL for January's year to date)"
  previous_period_end: "Ngày cuối kỳ trước / Last day of the previous period"
*/
WITH months_with_data AS (
    SELECT unnest(range(min(month), max(month) + INTERVAL 1 MONTH, INTERVAL 1 MONTH))::DATE
        AS month_start
    FROM core.agency_month
),

periods AS (
    SELECT 'month' AS period_type, month_start AS period_start, last_day(month_start) AS period_end
    FROM months_with_data
    UNION ALL
    SELECT 'ytd', date_trunc('year', month_start)::DATE, last_day(month_start)
    FROM months_with_data
    UNION ALL
    SELECT DISTINCT 'year', date_trunc('year', month_start)::DATE,
        make_date(year(month_start), 12, 31)
    FROM months_with_data
)

SELECT
    period_type,
    period_start,
    period_end,
    -- 1 July 2025: 63 provinces and three levels become 34 provinces and two
    CASE WHEN period_end < DATE '2025-07-01' THEN 'legacy' ELSE '2025' END AS geography_version,
    CASE
        WHEN period_type = 'ytd' AND month(period_end) = 1 THEN NULL
        WHEN period_type = 'ytd' THEN period_start
        WHEN period_type = 'month' THEN (period_start - INTERVAL 1 MONTH)::DATE
        ELSE (period_start - INTERVAL 1 YEAR)::DATE
    END AS previous_period_start,
    CASE
        WHEN period_type = 'ytd' AND month(period_end) = 1 THEN NULL
        WHEN period_type = 'year' THEN (period_start - INTERVAL 1 DAY)::DATE
        ELSE last_day(period_end - INTERVAL 1 MONTH)
    END AS previous_period_end
FROM periods
