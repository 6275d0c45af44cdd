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
*/
WITH months_with_data AS (
    SELECT unnest(range(min(month), max(month) + INTERVAL 1 MONTH, INTERVAL 1 MONTH))::DATE
        AS month_start
    FROM core.agency_procedure_month
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
    CASE WHEN period_end < DATE '2025-07-01' THEN 'legacy' ELSE '2025' END AS geography_version
FROM periods
