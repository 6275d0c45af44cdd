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
  fraction: [target_min, target_stretch, actual, required_rest_of_year]
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
  required_rest_of_year: >-
    Tỷ lệ đơn vị chưa đạt chỉ tiêu tối thiểu cần đạt trong các tháng còn lại của năm, với số hồ
    sơ mỗi tháng bằng bình quân lũy kế, để cả năm đạt chỉ tiêu: với R hồ sơ (mẫu số của chỉ số)
    và O hồ sơ đạt (tử số) trong m tháng, chỉ tiêu t, r = 12 − m tháng còn lại, cần đạt
    (t × (R + R/m × r) − O) / (R/m × r); chỉ có giá trị khi required_status = reachable. /
    For an agency below its minimum target: the rate it must reach over the rest of the year,
    at its year-to-date monthly volume, to end the year on target; with R dossiers (the
    metric's denominator) and O of them counted (its numerator) over m months, target t and
    r = 12 − m months left: (t × (R + R/m × r) − O) / (R/m × r); set only when
    required_status = reachable
  required_status: >-
    on_target (đã đạt chỉ tiêu tối thiểu) | reachable (chưa đạt, còn đạt được: xem
    required_rest_of_year) | unreachable (chưa đạt, cần hơn 100%) | no_months_left (chưa đạt,
    tháng 12) | no_data (không có số liệu) | not_applicable (chỉ số đếm thủ tục, không đếm hồ
    sơ) / on_target (meets the minimum) | reachable (below, see required_rest_of_year) |
    unreachable (below, would need more than 100%) | no_months_left (below, in December) |
    no_data (no figures) | not_applicable (a metric counting procedures, not dossiers)
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

-- the counts behind the rates of dossiers: what the rest of the year can still move
ytd_counts AS (
    SELECT agency_code, period_end, unnest(dossier_rate_counts(rates), recursive := true)
    FROM marts.agency_period_rates AS rates
    WHERE period_type = 'ytd' AND period_end >= $window_start
),

-- an agency's year to date per metric: its value and, for a rate of dossiers, the counts
-- behind it (a metric without a value is judged no_data, whatever its counts)
ytd_figures AS (
    SELECT
        actual.*,
        counts.numerator AS ytd_numerator,
        counts.denominator AS ytd_denominator
    FROM ytd_actuals AS actual
    LEFT JOIN ytd_counts AS counts USING (agency_code, period_end, metric)
),

compliance AS (
    SELECT
        target.*,
        month.as_of_month,
        month.period_start,
        month.period_end,
        figures.actual,
        figures.ytd_numerator,
        figures.ytd_denominator,
        month(month.as_of_month) AS months_elapsed,
        12 - month(month.as_of_month) AS months_left
    FROM applicable_targets AS target
    JOIN months_in_window AS month USING (year)
    LEFT JOIN ytd_figures AS figures
        ON figures.agency_code = target.agency_code
        AND figures.metric = target.metric
        AND figures.period_end = month.period_end
),

-- the status is judged against the minimum target, and so is what is still needed
judged AS (
    SELECT
        *,
        CASE
            WHEN actual IS NULL THEN 'no_data'
            WHEN actual >= target_stretch THEN 'exceeds_stretch'
            WHEN actual >= target_min THEN 'met'
            ELSE 'below'
        END AS status,
        -- the year-to-date monthly volume over the months left: the dossiers still to come
        ytd_denominator / months_elapsed * months_left AS rest_of_year_volume
    FROM compliance
),

needs AS (
    SELECT
        *,
        (target_min * (ytd_denominator + rest_of_year_volume) - ytd_numerator)
            / nullif(rest_of_year_volume, 0) AS required_share
    FROM judged
)

SELECT
    needs.agency_code,
    agency.agency_name,
    agency.province_code,
    agency.admin_level,
    needs.year,
    needs.as_of_month,
    needs.period_start,
    needs.period_end,
    needs.metric,
    needs.target_scope,
    needs.target_min,
    needs.target_stretch,
    needs.actual,
    round((needs.actual - needs.target_min) * 100, 2) AS gap_pp,
    needs.status,
    needs.decision_ref,
    CASE WHEN needs.status = 'below' AND needs.required_share <= 1 THEN needs.required_share END
        AS required_rest_of_year,
    CASE
        WHEN needs.status = 'no_data' THEN 'no_data'
        WHEN needs.status IN ('met', 'exceeds_stretch') THEN 'on_target'
        WHEN needs.ytd_denominator IS NULL THEN 'not_applicable'
        WHEN needs.months_left = 0 THEN 'no_months_left'
        WHEN needs.required_share > 1 THEN 'unreachable'
        ELSE 'reachable'
    END AS required_status
FROM needs
JOIN core.agencies AS agency USING (agency_code)
