/*
table: core.agency_procedure_period
group: core
description: >
  Hồ sơ tiếp nhận theo đơn vị × thủ tục × kỳ, với mức độ của thủ tục trong danh mục áp dụng
  cho tỉnh (địa giới của kỳ) và cấp của đơn vị; service_level NULL khi thủ tục không có
  trong danh mục. / Dossiers received per agency × procedure × period, with the procedure's
  service level in the catalogue in force for the agency's province (geography of the
  period) and level; service_level is NULL for a procedure the catalogue does not list.
replace: periods
# DuckDB estimates the year-to-date sums at a few thousand rows where a month of a national
# portal has about a million, and builds its hash tables of the agency and catalogue joins on
# them instead of on the small tables: as written, the small side of every join is the right
# one (one month: 3.4 → 1.7 CPU s; 24 months: 51 → 36 CPU s, the same rows)
disabled_optimizers: [build_side_probe_side]
columns:
  agency_code: "Mã đơn vị / Agency code"
  province_code: "Mã tỉnh của đơn vị trong địa giới của kỳ / The agency's province in the period's geography"
  admin_level: "Cấp hành chính / Administrative level"
  geography_version: "Địa giới của kỳ: legacy | 2025 / Geography of the period"
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  ma_tthc: "Mã thủ tục ('' nếu thiếu) / Procedure code ('' when missing)"
  received: "Hồ sơ tiếp nhận / Dossiers received"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  service_level: "Mức độ trong danh mục: information | partial | full (NULL: không có) / Service level in the catalogue (NULL: not listed)"
*/
WITH periods_in_window AS (
    SELECT period_type, period_start, period_end, geography_version
    FROM core.reporting_periods
    WHERE period_start < $window_end AND period_end >= $window_start
),

-- a period sums the months with receptions it covers
receiving_months AS (
    SELECT agency_code, ma_tthc, month, received, received_online
    FROM core.agency_procedure_month
    WHERE received > 0
      AND month BETWEEN (SELECT min(period_start) FROM periods_in_window)
                    AND (SELECT max(period_end) FROM periods_in_window)
),

-- the year-to-date and year periods start on 1 January (core.reporting_periods): each one's
-- sum is the running total of the year at the last month with receptions up to its end,
-- which stands until the next such month (summing every month of each period again made
-- the cost grow with the square of the months of a year)
running_totals AS (
    SELECT
        agency_code,
        ma_tthc,
        month,
        date_trunc('year', month)::DATE AS year_start,
        sum(received) OVER months_of_the_year AS received,
        sum(received_online) OVER months_of_the_year AS received_online,
        coalesce(lead(month) OVER months_of_the_year, date_trunc('year', month) + INTERVAL 1 YEAR)
            AS next_receiving_month
    FROM receiving_months
    WINDOW months_of_the_year AS (PARTITION BY agency_code, ma_tthc, year(month) ORDER BY month)
),

receptions AS (
    SELECT
        counts.agency_code, counts.ma_tthc, period.period_type, period.period_start,
        period.period_end, period.geography_version, counts.received, counts.received_online
    FROM receiving_months AS counts
    JOIN periods_in_window AS period
        ON period.period_type = 'month' AND period.period_start = counts.month
    UNION ALL
    SELECT
        totals.agency_code, totals.ma_tthc, period.period_type, period.period_start,
        period.period_end, period.geography_version, totals.received, totals.received_online
    FROM running_totals AS totals
    JOIN periods_in_window AS period
        ON period.period_type IN ('ytd', 'year')
        AND period.period_start = totals.year_start
        AND period.period_end >= totals.month
        AND period.period_end < totals.next_receiving_month
)

SELECT
    receptions.agency_code,
    agency.province_code,
    agency.admin_level,
    receptions.geography_version,
    receptions.period_type,
    receptions.period_start,
    receptions.period_end,
    receptions.ma_tthc,
    receptions.received,
    receptions.received_online,
    catalog.service_level
FROM receptions
JOIN core.agency_provinces AS agency USING (agency_code, geography_version)
LEFT JOIN core.catalog_in_force AS catalog
    ON catalog.period_type = receptions.period_type
    AND catalog.period_start = receptions.period_start
    AND catalog.period_end = receptions.period_end
    AND catalog.province_code = agency.province_code
    AND catalog.admin_level = agency.admin_level
    AND catalog.ma_tthc = receptions.ma_tthc
