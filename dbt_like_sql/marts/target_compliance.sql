/*
table: marts.target_compliance
group: marts
description: >
  Mức đạt chỉ tiêu của từng đơn vị được giao chỉ tiêu, tại mỗi tháng: giá trị lũy kế từ đầu
  năm so với chỉ tiêu tối thiểu và chỉ tiêu phấn đấu. Chỉ tiêu giao riêng cho đơn vị thay thế
  chỉ tiêu của cấp; chỉ tiêu của cấp thay thế chỉ tiêu mọi cấp ('*'). Bằng chỉ tiêu là đạt. /
  Target compliance of every agency with a target, at every month: the year-to-date actual
  against target_min and target_stretch. A target for the agency itself overrides its
  level's, and a level's overrides the every-level ('*') one. Equality meets the target.
replace: periods
grain: [metric, province_code, admin_level, agency_code, period_start, period_end, year, as_of_month]
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  year: [year]
  fraction: [target_min, target_stretch, actual]
  percentage_points: [gap_pp]
columns:
  agency_code: "Mã đơn vị / Agency code"
  agency_name: "Tên đơn vị / Agency name"
  province_code: "Mã tỉnh của đơn vị / The agency's province code"
  admin_level: "Cấp hành chính của đơn vị / The agency's administrative level"
  year: "Năm giao chỉ tiêu / Target year"
  as_of_month: "Tháng tính lũy kế (ngày đầu tháng) / Month of the year-to-date figure (first day)"
  period_start: "Ngày đầu kỳ lũy kế (01/01) / First day of the year-to-date period (1 January)"
  period_end: "Ngày cuối kỳ lũy kế (cuối tháng as_of_month) / Last day of the year-to-date period"
  metric: "Chỉ số được giao / Metric of the target"
  target_scope: "Phạm vi chỉ tiêu: agency | level | every_level / Which target row applies"
  target_min: "Chỉ tiêu tối thiểu (tỷ lệ) / Minimum target (fraction)"
  target_stretch: "Chỉ tiêu phấn đấu (tỷ lệ, có thể NULL) / Stretch target (fraction, may be NULL)"
  actual: "Giá trị lũy kế từ đầu năm (NULL: không có số liệu) / Year-to-date value (NULL: no data)"
  gap_pp: "Chênh lệch so với chỉ tiêu tối thiểu, điểm phần trăm / Gap to the minimum, percentage points"
  status: "exceeds_stretch (≥ phấn đấu) | met (≥ tối thiểu) | below | no_data / Status"
  decision_ref: "Văn bản giao chỉ tiêu / Decision assigning the target"
*/
-- a refreshed month changes the year to date of every later month of its year
WITH months_in_window AS (
    SELECT
        date_trunc('month', period_end)::DATE AS as_of_month,
        period_start,
        period_end,
        year(period_start) AS year
    FROM core.reporting_periods
    WHERE period_type = 'ytd'
      AND period_start < $window_end AND period_end >= $window_start
),

-- every target row, with the agencies it names: one agency, or those of a province × level
-- (or every level) that exist during the year
targeted_agencies AS (
    SELECT
        agency.agency_code,
        target.year,
        target.metric,
        target.target_min,
        target.target_stretch,
        target.decision_ref,
        CASE
            WHEN target.agency_code IS NOT NULL THEN 'agency'
            WHEN target.admin_level = '*' THEN 'every_level'
            ELSE 'level'
        END AS target_scope
    FROM core.targets AS target
    JOIN core.agencies AS agency
        ON CASE
            WHEN target.agency_code IS NOT NULL THEN agency.agency_code = target.agency_code
            ELSE agency.province_code = target.province_code
                 AND target.admin_level IN ('*', agency.admin_level)
                 AND coalesce(agency.valid_from, DATE '1900-01-01')
                     <= make_date(target.year, 12, 31)
                 AND coalesce(agency.valid_to, DATE '9999-12-31') >= make_date(target.year, 1, 1)
        END
),

-- the most specific target wins: agency, then level, then every level
applicable_targets AS (
    SELECT *
    FROM targeted_agencies
    QUALIFY row_number() OVER (
        PARTITION BY agency_code, year, metric
        ORDER BY CASE target_scope WHEN 'agency' THEN 1 WHEN 'level' THEN 2 ELSE 3 END
    ) = 1
),

ytd_actuals AS (
    SELECT agency_code, period_end, metric, value AS actual
    FROM marts.agency_period_rates
    UNPIVOT (
        value FOR metric IN (
            online_share_all, online_share_dvctt, online_share_full, dvctt_uptake_rate,
            full_online_provision_rate, on_time_rate, online_payment_rate
        )
    )
    WHERE period_type = 'ytd' AND period_end >= $window_start
),

compliance AS (
    SELECT
        target.*,
        month.as_of_month,
        month.period_start,
        month.period_end,
        actual.actual
    FROM applicable_targets AS target
    JOIN months_in_window AS month USING (year)
    LEFT JOIN ytd_actuals AS actual
        ON actual.agency_code = target.agency_code
        AND actual.metric = target.metric
        AND actual.period_end = month.period_end
)

SELECT
    compliance.agency_code,
    agency.agency_name,
    agency.province_code,
    agency.admin_level,
    compliance.year,
    compliance.as_of_month,
    compliance.period_start,
    compliance.period_end,
    compliance.metric,
    compliance.target_scope,
    compliance.target_min,
    compliance.target_stretch,
    compliance.actual,
    round((compliance.actual - compliance.target_min) * 100, 2) AS gap_pp,
    CASE
        WHEN compliance.actual IS NULL THEN 'no_data'
        WHEN compliance.actual >= compliance.target_stretch THEN 'exceeds_stretch'
        WHEN compliance.actual >= compliance.target_min THEN 'met'
        ELSE 'below'
    END AS status,
    compliance.decision_ref
FROM compliance
JOIN core.agencies AS agency USING (agency_code)
