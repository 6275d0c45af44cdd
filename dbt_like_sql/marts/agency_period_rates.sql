/*
table: marts.agency_period_rates
group: marts
description: >
  Mọi chỉ số của §4 theo đơn vị và kỳ (tháng, lũy kế, năm), kèm tử số và mẫu số để BI tự cộng
  dồn. Đơn vị chỉ có báo cáo (Biểu 06): các chỉ số theo thủ tục để NULL. Các chỉ số theo danh
  mục dùng danh mục áp dụng cho tỉnh và cấp của đơn vị. / Every metric of §4 per agency and
  period (month, year to date, year), with numerators and denominators so BI can
  re-aggregate. For agencies known only from reports (Biểu 06) the procedure-level metrics
  are NULL. Catalogue-based metrics use the catalogue in force for the agency's province and
  level.
replace: periods
grain: [province_code, admin_level, agency_code, period_type, period_start, period_end]
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  count: [received, received_online, received_with_fee, paid_online, channel_empty,
    finished, finished_on_time, received_dvctt, received_online_dvctt, received_full,
    received_online_full, dvctt_with_online, dvctt_offered, full_online_eligible,
    full_online_offered]
  fraction: [online_share_all, online_share_dvctt, online_share_full, dvctt_uptake_rate,
    full_online_provision_rate, on_time_rate, online_payment_rate]
columns:
  agency_code: "Mã đơn vị / Agency code"
  agency_name: "Tên đơn vị / Agency name"
  admin_level: "Cấp hành chính: province | district | commune / Administrative level"
  province_code: "Mã tỉnh (GSO, địa giới thời điểm đó) / Province code (GSO, geography of the time)"
  period_type: "Loại kỳ: month | ytd | year / Period type"
  period_start: "Ngày đầu kỳ / First day of the period"
  period_end: "Ngày cuối kỳ / Last day of the period"
  source: "Nguồn số liệu: dossiers (chỉ hồ sơ) | report (chỉ báo cáo) | both (có cả hai trong kỳ) / Source of the figures: both = reports exist too (dossiers count where both cover a month)"
  received: "Hồ sơ tiếp nhận / Dossiers received"
  received_online: "Hồ sơ tiếp nhận trực tuyến / Dossiers received online"
  received_with_fee: "Hồ sơ tiếp nhận có phí / Received dossiers with a fee"
  paid_online: "Hồ sơ thanh toán trực tuyến / Dossiers paid online"
  channel_empty: "Hồ sơ để trống kênh / Dossiers with an empty channel"
  finished: "Hồ sơ kết thúc xử lý trong kỳ / Dossiers finished in the period"
  finished_on_time: "Hồ sơ giải quyết đúng hạn / Dossiers finished on time"
  received_dvctt: "Hồ sơ tiếp nhận của thủ tục là DVCTT / Received dossiers of DVCTT procedures"
  received_online_dvctt: "Hồ sơ trực tuyến của thủ tục là DVCTT / Online dossiers of DVCTT procedures"
  received_full: "Hồ sơ tiếp nhận của thủ tục toàn trình / Received dossiers of end-to-end procedures"
  received_online_full: "Hồ sơ trực tuyến của thủ tục toàn trình / Online dossiers of end-to-end procedures"
  dvctt_with_online: "Số DVCTT của đơn vị có hồ sơ trực tuyến / The agency's DVCTT with an online dossier"
  dvctt_offered: "Số DVCTT trong danh mục của tỉnh và cấp / DVCTT in the catalogue of the province and level"
  full_online_eligible: "Số thủ tục đủ điều kiện toàn trình (tỉnh, cấp) / Procedures eligible end-to-end (province, level)"
  full_online_offered: "Số thủ tục đủ điều kiện đã cung cấp toàn trình / Eligible procedures offered end-to-end"
  online_share_all: "Tỷ lệ hồ sơ trực tuyến / Share of dossiers received online"
  online_share_dvctt: "Tỷ lệ hồ sơ trực tuyến của các DVCTT / Online share among DVCTT procedures"
  online_share_full: "Tỷ lệ hồ sơ trực tuyến của thủ tục toàn trình / Online share among end-to-end procedures"
  dvctt_uptake_rate: "Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến / Share of DVCTT with online dossiers"
  full_online_provision_rate: "Tỷ lệ thủ tục đủ điều kiện được cung cấp toàn trình / Share of eligible procedures offered end-to-end"
  on_time_rate: "Tỷ lệ giải quyết đúng hạn / Share of finished dossiers finished on time"
  online_payment_rate: "Tỷ lệ thanh toán trực tuyến / Share of dossiers with a fee paid online"
*/
WITH periods_in_window AS (
    SELECT period_type, period_start, period_end, geography_version
    FROM core.reporting_periods
    WHERE period_start < $window_end AND period_end >= $window_start
),

agency_counts AS (
    SELECT
        counts.agency_code,
        period.period_type,
        period.period_start,
        period.period_end,
        period.geography_version,
        CASE WHEN count(DISTINCT counts.source) = 1 THEN any_value(counts.source) ELSE 'both' END
            AS source,
        sum(counts.received) AS received,
        sum(counts.received_online) AS received_online,
        sum(counts.received_with_fee) AS received_with_fee,
        sum(counts.paid_online) AS paid_online,
        sum(counts.channel_empty) AS channel_empty,
        sum(counts.finished) AS finished,
        sum(counts.finished_on_time) AS finished_on_time
    FROM periods_in_window AS period
    JOIN core.agency_month AS counts
        ON counts.month BETWEEN period.period_start AND period.period_end
    GROUP BY ALL
),

procedure_counts AS (
    SELECT
        agency_code,
        period_type,
        period_start,
        period_end,
        sum(received) FILTER (WHERE service_level IN ('partial', 'full')) AS received_dvctt,
        sum(received_online) FILTER (WHERE service_level IN ('partial', 'full'))
            AS received_online_dvctt,
        sum(received) FILTER (WHERE service_level = 'full') AS received_full,
        sum(received_online) FILTER (WHERE service_level = 'full') AS received_online_full,
        count(*) FILTER (WHERE service_level IN ('partial', 'full') AND received_online > 0)
            AS dvctt_with_online
    FROM core.agency_procedure_period
    WHERE period_start < $window_end AND period_end >= $window_start
    GROUP BY ALL
),

-- procedure-level figures exist only where dossier records do; NULL for report-only agencies
counts_with_procedures AS (
    SELECT
        agency_counts.*,
        agency.province_code AS catalog_province_code,
        agency.admin_level,
        agency_counts.source <> 'report' AS has_dossiers,
        coalesce(procedure_counts.received_dvctt, 0) AS received_dvctt,
        coalesce(procedure_counts.received_online_dvctt, 0) AS received_online_dvctt,
        coalesce(procedure_counts.received_full, 0) AS received_full,
        coalesce(procedure_counts.received_online_full, 0) AS received_online_full,
        coalesce(procedure_counts.dvctt_with_online, 0) AS dvctt_with_online
    FROM agency_counts
    JOIN core.agency_provinces AS agency USING (agency_code, geography_version)
    LEFT JOIN procedure_counts USING (agency_code, period_type, period_start, period_end)
),

agency_figures AS (
    SELECT
        counts.agency_code,
        counts.period_type,
        counts.period_start,
        counts.period_end,
        counts.source,
        counts.received,
        counts.received_online,
        counts.received_with_fee,
        counts.paid_online,
        counts.channel_empty,
        counts.finished,
        counts.finished_on_time,
        CASE WHEN counts.has_dossiers THEN counts.received_dvctt END AS received_dvctt,
        CASE WHEN counts.has_dossiers THEN counts.received_online_dvctt END
            AS received_online_dvctt,
        CASE WHEN counts.has_dossiers THEN counts.received_full END AS received_full,
        CASE WHEN counts.has_dossiers THEN counts.received_online_full END
            AS received_online_full,
        CASE WHEN counts.has_dossiers THEN counts.dvctt_with_online END AS dvctt_with_online,
        CASE WHEN counts.has_dossiers THEN catalog.dvctt_offered END AS dvctt_offered,
        CASE WHEN counts.has_dossiers THEN catalog.full_online_eligible END
            AS full_online_eligible,
        CASE WHEN counts.has_dossiers THEN catalog.full_online_offered END
            AS full_online_offered
    FROM counts_with_procedures AS counts
    LEFT JOIN core.province_level_procedures AS catalog
        ON catalog.period_type = counts.period_type
        AND catalog.period_start = counts.period_start
        AND catalog.period_end = counts.period_end
        AND catalog.province_code = counts.catalog_province_code
        AND catalog.admin_level = counts.admin_level
)

SELECT
    agency_figures.agency_code,
    agency.agency_name,
    agency.admin_level,
    agency.province_code,
    agency_figures.period_type,
    agency_figures.period_start,
    agency_figures.period_end,
    agency_figures.source,
    agency_figures.received,
    agency_figures.received_online,
    agency_figures.received_with_fee,
    agency_figures.paid_online,
    agency_figures.channel_empty,
    agency_figures.finished,
    agency_figures.finished_on_time,
    agency_figures.received_dvctt,
    agency_figures.received_online_dvctt,
    agency_figures.received_full,
    agency_figures.received_online_full,
    agency_figures.dvctt_with_online,
    agency_figures.dvctt_offered,
    agency_figures.full_online_eligible,
    agency_figures.full_online_offered,
    unnest(metric_rates(agency_figures))  -- the rates of DESIGN §4: dbt_like_sql/macros
FROM agency_figures
JOIN core.agencies AS agency USING (agency_code)
