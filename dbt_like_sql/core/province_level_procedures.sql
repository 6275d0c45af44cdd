/*
table: core.province_level_procedures
group: core
description: >
  Số thủ tục khác nhau theo tỉnh × cấp × kỳ (địa giới của kỳ): DVCTT trong danh mục, DVCTT
  phát sinh hồ sơ trực tuyến, thủ tục đủ điều kiện và đã cung cấp toàn trình. Không cộng được
  qua các đơn vị; cộng được qua các cấp và các tỉnh. / Distinct procedures per province ×
  level × period (geography of the period): DVCTT in the catalogue, DVCTT with at least one
  online dossier, procedures eligible for and offered end-to-end. Not additive over agencies;
  additive over levels and provinces.
replace: periods
columns:
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  geography_version: "Địa giới của kỳ: legacy | 2025 / Geography of the period"
  province_code: "Mã tỉnh (GSO) / Province code (GSO)"
  admin_level: "Cấp hành chính / Administrative level"
  dvctt_offered: "Số DVCTT (một phần, toàn trình) trong danh mục / DVCTT (partial or full) in the catalogue"
  dvctt_with_online: "Số DVCTT có ít nhất 1 hồ sơ trực tuyến / DVCTT with at least one online dossier"
  full_online_eligible: "Số thủ tục đủ điều kiện toàn trình / Procedures eligible for end-to-end service"
  full_online_offered: "Số thủ tục đủ điều kiện đã cung cấp toàn trình / Eligible procedures offered end-to-end"
*/
WITH catalog_counts AS (
    SELECT
        period_type,
        period_start,
        period_end,
        geography_version,
        province_code,
        admin_level,
        count(*) FILTER (WHERE service_level IN ('partial', 'full')) AS dvctt_offered,
        count(*) FILTER (WHERE eligible_full_online) AS full_online_eligible,
        count(*) FILTER (WHERE eligible_full_online AND service_level = 'full')
            AS full_online_offered
    FROM core.catalog_in_force
    WHERE period_start < $window_end AND period_end >= $window_start
    GROUP BY ALL
),

-- a procedure handled online by several agencies of the same level counts once
procedures_used_online AS (
    SELECT
        period_type,
        period_start,
        period_end,
        geography_version,
        province_code,
        admin_level,
        count(DISTINCT ma_tthc) AS dvctt_with_online
    FROM core.agency_procedure_period
    WHERE service_level IN ('partial', 'full') AND received_online > 0
      AND period_start < $window_end AND period_end >= $window_start
    GROUP BY ALL
)

SELECT
    period_type,
    period_start,
    period_end,
    geography_version,
    province_code,
    admin_level,
    catalog_counts.dvctt_offered,
    coalesce(procedures_used_online.dvctt_with_online, 0) AS dvctt_with_online,
    catalog_counts.full_online_eligible,
    catalog_counts.full_online_offered
FROM catalog_counts
LEFT JOIN procedures_used_online
    USING (period_type, period_start, period_end, geography_version, province_code, admin_level)
