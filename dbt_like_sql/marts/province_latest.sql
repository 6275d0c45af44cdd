/*
table: marts.province_latest
group: marts
description: >
  Mỗi tỉnh một dòng cho mỗi địa giới: tháng mới nhất có số liệu và lũy kế từ đầu năm đến tháng
  đó, mọi chỉ số của §4 và thứ hạng lũy kế, để trả lời "tỉnh tôi hiện ra sao" mà không cần lọc
  period_type hay tìm kỳ mới nhất. Vẫn phải lọc geography. / One row per province and
  geography: the latest month with figures and the year to date up to it, every metric of §4
  and the year-to-date ranks, to answer "how is my province doing now" with no period_type to
  filter and no latest period to look up. Still filter geography.
replace: all
# the unit of each numeric column, for the data dictionary (text, dates, booleans go by type)
units:
  count: [received_month, received_ytd]
  fraction: [online_share_all_month, online_share_all_ytd, online_share_dvctt_month,
    online_share_dvctt_ytd, online_share_full_month, online_share_full_ytd,
    dvctt_uptake_rate_month, dvctt_uptake_rate_ytd, full_online_provision_rate_month,
    full_online_provision_rate_ytd, on_time_rate_month, on_time_rate_ytd,
    online_payment_rate_month, online_payment_rate_ytd]
  rank: [online_share_all_rank_ytd, online_share_dvctt_rank_ytd, online_share_full_rank_ytd,
    dvctt_uptake_rate_rank_ytd, full_online_provision_rate_rank_ytd, on_time_rate_rank_ytd,
    online_payment_rate_rank_ytd]
columns:
  geography: "Địa giới: as_was (thời điểm đó) | current (34 tỉnh) / Geography: as_was (of the time) | current (34 provinces)"
  province_code: "Mã tỉnh (GSO) / Province code (GSO)"
  province_name: "Tên tỉnh / Province name"
  month: "Tháng mới nhất có số liệu (ngày đầu tháng; có thể là tháng đang chạy, chưa đủ) / The latest month with figures (first day; may be the running month, still filling)"
  ytd_start: "Ngày đầu kỳ lũy kế (01/01) / First day of the year to date (1 January)"
  period_end: "Ngày cuối tháng mới nhất, cuối kỳ lũy kế / Last day of the latest month and of the year to date"
  received_month: "Hồ sơ tiếp nhận trong tháng / Dossiers received in the month"
  received_ytd: "Hồ sơ tiếp nhận lũy kế / Dossiers received, year to date"
  online_share_all_month: "Tỷ lệ hồ sơ trực tuyến, tháng mới nhất / Share of dossiers received online, latest month"
  online_share_all_ytd: "Tỷ lệ hồ sơ trực tuyến, lũy kế / Share of dossiers received online, year to date"
  online_share_all_rank_ytd: "Thứ hạng lũy kế (1 = cao nhất, NULL: không xếp hạng) / Year-to-date rank (1 = highest, NULL: not ranked)"
  online_share_dvctt_month: "Tỷ lệ hồ sơ trực tuyến của các DVCTT, tháng mới nhất / Online share among DVCTT procedures, latest month"
  online_share_dvctt_ytd: "Tỷ lệ hồ sơ trực tuyến của các DVCTT, lũy kế / Online share among DVCTT procedures, year to date"
  online_share_dvctt_rank_ytd: "Thứ hạng lũy kế (1 = cao nhất, NULL: không xếp hạng) / Year-to-date rank (1 = highest, NULL: not ranked)"
  online_share_full_month: "Tỷ lệ hồ sơ trực tuyến của thủ tục toàn trình, tháng mới nhất / Online share among end-to-end procedures, latest month"
  online_share_full_ytd: "Tỷ lệ hồ sơ trực tuyến của thủ tục toàn trình, lũy kế / Online share among end-to-end procedures, year to date"
  online_share_full_rank_ytd: "Thứ hạng lũy kế (1 = cao nhất, NULL: không xếp hạng) / Year-to-date rank (1 = highest, NULL: not ranked)"
  dvctt_uptake_rate_month: "Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến, tháng mới nhất / Share of DVCTT with online dossiers, latest month"
  dvctt_uptake_rate_ytd: "Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến, lũy kế / Share of DVCTT with online dossiers, year to date"
  dvctt_uptake_rate_rank_ytd: "Thứ hạng lũy kế (1 = cao nhất, NULL: không xếp hạng) / Year-to-date rank (1 = highest, NULL: not ranked)"
  full_online_provision_rate_month: "Tỷ lệ thủ tục đủ điều kiện được cung cấp toàn trình, tháng mới nhất / Share of eligible procedures offered end-to-end, latest month"
  full_online_provision_rate_ytd: "Tỷ lệ thủ tục đủ điều kiện được cung cấp toàn trình, lũy kế / Share of eligible procedures offered end-to-end, year to date"
  full_online_provision_rate_rank_ytd: "Thứ hạng lũy kế (1 = cao nhất, NULL: không xếp hạng) / Year-to-date rank (1 = highest, NULL: not ranked)"
  on_time_rate_month: "Tỷ lệ giải quyết đúng hạn, tháng mới nhất / Share of finished dossiers finished on time, latest month"
  on_time_rate_ytd: "Tỷ lệ giải quyết đúng hạn, lũy kế / Share of finished dossiers finished on time, year to date"
  on_time_rate_rank_ytd: "Thứ hạng lũy kế (1 = cao nhất, NULL: không xếp hạng) / Year-to-date rank (1 = highest, NULL: not ranked)"
  online_payment_rate_month: "Tỷ lệ thanh toán trực tuyến, tháng mới nhất / Share of dossiers with a fee paid online, latest month"
  online_payment_rate_ytd: "Tỷ lệ thanh toán trực tuyến, lũy kế / Share of dossiers with a fee paid online, year to date"
  online_payment_rate_rank_ytd: "Thứ hạng lũy kế (1 = cao nhất, NULL: không xếp hạng) / Year-to-date rank (1 = highest, NULL: not ranked)"
*/
WITH latest_month AS (
    SELECT max(period_start) AS month
    FROM marts.province_period_rates
    WHERE period_type = 'month'
),

month_rates AS (
    SELECT rates.*
    FROM marts.province_period_rates AS rates
    JOIN latest_month ON rates.period_start = latest_month.month
    WHERE rates.period_type = 'month'
),

ytd_rates AS (
    SELECT rates.*
    FROM marts.province_period_rates AS rates
    JOIN latest_month ON rates.period_end = last_day(latest_month.month)
    WHERE rates.period_type = 'ytd'
),

ytd_ranks AS (
    SELECT
        rankings.geography,
        rankings.province_code,
        max(rank) FILTER (WHERE metric = 'online_share_all') AS online_share_all_rank_ytd,
        max(rank) FILTER (WHERE metric = 'online_share_dvctt') AS online_share_dvctt_rank_ytd,
        max(rank) FILTER (WHERE metric = 'online_share_full') AS online_share_full_rank_ytd,
        max(rank) FILTER (WHERE metric = 'dvctt_uptake_rate') AS dvctt_uptake_rate_rank_ytd,
        max(rank) FILTER (WHERE metric = 'full_online_provision_rate') AS full_online_provision_rate_rank_ytd,
        max(rank) FILTER (WHERE metric = 'on_time_rate') AS on_time_rate_rank_ytd,
        max(rank) FILTER (WHERE metric = 'online_payment_rate') AS online_payment_rate_rank_ytd
    FROM marts.province_rankings AS rankings
    JOIN latest_month ON rankings.period_end = last_day(latest_month.month)
    WHERE rankings.period_type = 'ytd'
    GROUP BY ALL
)

SELECT
    month_rates.geography,
    month_rates.province_code,
    month_rates.province_name,
    month_rates.period_start AS month,
    ytd_rates.period_start AS ytd_start,
    month_rates.period_end,
    month_rates.received AS received_month,
    ytd_rates.received AS received_ytd,
    month_rates.online_share_all AS online_share_all_month,
    ytd_rates.online_share_all AS online_share_all_ytd,
    ytd_ranks.online_share_all_rank_ytd,
    month_rates.online_share_dvctt AS online_share_dvctt_month,
    ytd_rates.online_share_dvctt AS online_share_dvctt_ytd,
    ytd_ranks.online_share_dvctt_rank_ytd,
    month_rates.online_share_full AS online_share_full_month,
    ytd_rates.online_share_full AS online_share_full_ytd,
    ytd_ranks.online_share_full_rank_ytd,
    month_rates.dvctt_uptake_rate AS dvctt_uptake_rate_month,
    ytd_rates.dvctt_uptake_rate AS dvctt_uptake_rate_ytd,
    ytd_ranks.dvctt_uptake_rate_rank_ytd,
    month_rates.full_online_provision_rate AS full_online_provision_rate_month,
    ytd_rates.full_online_provision_rate AS full_online_provision_rate_ytd,
    ytd_ranks.full_online_provision_rate_rank_ytd,
    month_rates.on_time_rate AS on_time_rate_month,
    ytd_rates.on_time_rate AS on_time_rate_ytd,
    ytd_ranks.on_time_rate_rank_ytd,
    month_rates.online_payment_rate AS online_payment_rate_month,
    ytd_rates.online_payment_rate AS online_payment_rate_ytd,
    ytd_ranks.online_payment_rate_rank_ytd
FROM month_rates
JOIN ytd_rates USING (geography, province_code)
LEFT JOIN ytd_ranks USING (geography, province_code)
