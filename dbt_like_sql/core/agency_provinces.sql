/*
table: core.agency_provinces
group: core
description: >
  Tỉnh của mỗi đơn vị theo từng địa giới: legacy (63 tỉnh, trước 01/07/2025) và 2025 (34
  tỉnh); đơn vị của địa giới cũ được gán vào tỉnh mới đã sáp nhập tỉnh của nó. /
  The province of each agency in each geography: legacy (63 provinces, before 2025-07-01)
  and 2025 (34 provinces); agencies of the former geography are mapped onto the province
  that absorbed theirs, so they still appear in the 34-province figures.
replace: all
columns:
  agency_code: "Mã đơn vị / Agency code"
  admin_level: "Cấp hành chính: province | district | commune / Administrative level"
  geography_version: "Địa giới: legacy (63 tỉnh) | 2025 (34 tỉnh) / Geography"
  province_code: "Mã tỉnh (GSO) trong địa giới đó / Province code (GSO) in that geography"
*/
-- an agency registered before the reorganisation (or without a start date) carries a code of
-- the 63 provinces; one registered from 2025-07-01 a code of the 34
WITH registered AS (
    SELECT
        agency_code,
        admin_level,
        province_code,
        coalesce(valid_from, DATE '1900-01-01') < DATE '2025-07-01' AS registered_before_2025
    FROM core.agencies
)

SELECT registered.agency_code, registered.admin_level, 'legacy' AS geography_version,
       registered.province_code
FROM registered
UNION ALL
SELECT
    registered.agency_code,
    registered.admin_level,
    '2025',
    CASE WHEN registered.registered_before_2025
         THEN coalesce(mapping.new_province_code, registered.province_code)
         ELSE registered.province_code END
FROM registered
LEFT JOIN core.province_mapping_2025 AS mapping
    ON mapping.old_province_code = registered.province_code
