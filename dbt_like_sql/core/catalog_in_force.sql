/*
table: core.catalog_in_force
group: core
description: >
  Danh mục dịch vụ áp dụng cho mỗi kỳ báo cáo: với mỗi tỉnh × cấp, bản danh mục mới nhất có
  hiệu lực đến ngày cuối kỳ, thuộc địa giới của kỳ đó. / The service catalogue that applies to
  each reporting period: per province × level, the latest snapshot effective on or before the
  period's end, among the snapshots of the period's geography (a 63-province catalogue never
  applies after 2025-07-01).
replace: periods
columns:
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  geography_version: "Địa giới của kỳ: legacy | 2025 / Geography of the period"
  province_code: "Mã tỉnh (GSO) / Province code (GSO)"
  admin_level: "Cấp hành chính / Administrative level"
  ma_tthc: "Mã thủ tục / Procedure code"
  service_level: "Mức độ: information (không phải DVCTT) | partial (một phần) | full (toàn trình) / Service level"
  eligible_full_online: "Đủ điều kiện cung cấp toàn trình / Eligible for end-to-end service"
  effective_date: "Ngày hiệu lực của bản danh mục / Effective date of the snapshot"
*/
WITH periods_in_window AS (
    SELECT period_type, period_start, period_end, geography_version
    FROM core.reporting_periods
    WHERE period_start < $window_end AND period_end >= $window_start
),

snapshots AS (
    SELECT DISTINCT
        province_code,
        admin_level,
        effective_date,
        CASE WHEN effective_date < DATE '2025-07-01' THEN 'legacy' ELSE '2025' END
            AS geography_version
    FROM core.service_catalog
),

snapshot_in_force AS (
    SELECT
        period.period_type,
        period.period_start,
        period.period_end,
        period.geography_version,
        snapshot.province_code,
        snapshot.admin_level,
        max(snapshot.effective_date) AS effective_date
    FROM periods_in_window AS period
    JOIN snapshots AS snapshot
        ON snapshot.effective_date <= period.period_end
        AND snapshot.geography_version = period.geography_version
    GROUP BY ALL
)

SELECT
    snapshot_in_force.period_type,
    snapshot_in_force.period_start,
    snapshot_in_force.period_end,
    snapshot_in_force.geography_version,
    catalog.province_code,
    catalog.admin_level,
    catalog.ma_tthc,
    catalog.service_level,
    catalog.eligible_full_online,
    catalog.effective_date
FROM snapshot_in_force
JOIN core.service_catalog AS catalog USING (province_code, admin_level, effective_date)
