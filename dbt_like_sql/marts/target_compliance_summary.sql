/*
table: marts.target_compliance_summary
group: marts
description: >
  Số đơn vị đạt chỉ tiêu theo tỉnh × cấp × năm × tháng × chỉ số (lũy kế từ đầu năm); đạt =
  met hoặc exceeds_stretch; tỷ lệ tính trên mọi đơn vị được giao chỉ tiêu, kể cả đơn vị
  không có số liệu. / Agencies meeting their targets per province × level × year × month ×
  metric (year to date); meeting = met or exceeds_stretch; the share is over every agency
  with a target, those without data included.
replace: periods
grain: [metric, province_code, admin_level, period_start, period_end, year, as_of_month]
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  year: [year]
  count: [agencies, agencies_met, agencies_exceeds_stretch, agencies_below,
    agencies_no_data]
  fraction: [share_met]
columns:
  province_code: "Mã tỉnh / Province code"
  province_name: "Tên tỉnh / Province name"
  admin_level: "Cấp hành chính / Administrative level"
  year: "Năm giao chỉ tiêu / Target year"
  as_of_month: "Tháng tính lũy kế (ngày đầu tháng) / Month of the year-to-date figure (first day)"
  period_start: "Ngày đầu kỳ lũy kế (01/01) / First day of the year-to-date period (1 January)"
  period_end: "Ngày cuối kỳ lũy kế / Last day of the year-to-date period"
  metric: "Chỉ số được giao / Metric of the target"
  agencies: "Số đơn vị được giao chỉ tiêu / Agencies with a target"
  agencies_met: "Số đơn vị đạt (met hoặc exceeds_stretch) / Agencies meeting their target"
  agencies_exceeds_stretch: "Số đơn vị đạt chỉ tiêu phấn đấu / Agencies reaching the stretch target"
  agencies_below: "Số đơn vị chưa đạt / Agencies below their target"
  agencies_no_data: "Số đơn vị không có số liệu / Agencies without data"
  share_met: "Tỷ lệ đơn vị đạt chỉ tiêu / Share of agencies meeting their target"
*/
WITH status_counts AS (
    SELECT
        province_code,
        admin_level,
        year,
        as_of_month,
        period_start,
        period_end,
        metric,
        count(*) AS agencies,
        count(*) FILTER (WHERE status IN ('met', 'exceeds_stretch')) AS agencies_met,
        count(*) FILTER (WHERE status = 'exceeds_stretch') AS agencies_exceeds_stretch,
        count(*) FILTER (WHERE status = 'below') AS agencies_below,
        count(*) FILTER (WHERE status = 'no_data') AS agencies_no_data
    FROM marts.target_compliance
    WHERE period_start < $window_end AND period_end >= $window_start
    GROUP BY ALL
)

SELECT
    status_counts.province_code,
    province.province_name,
    status_counts.admin_level,
    status_counts.year,
    status_counts.as_of_month,
    status_counts.period_start,
    status_counts.period_end,
    status_counts.metric,
    status_counts.agencies,
    status_counts.agencies_met,
    status_counts.agencies_exceeds_stretch,
    status_counts.agencies_below,
    status_counts.agencies_no_data,
    status_counts.agencies_met / status_counts.agencies AS share_met
FROM status_counts
LEFT JOIN core.provinces AS province
    ON province.province_code = status_counts.province_code
    AND province.geography_version
        = CASE WHEN status_counts.as_of_month < DATE '2025-07-01' THEN 'legacy' ELSE '2025' END
