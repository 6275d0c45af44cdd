/*
table: marts.fee_policy_effect
group: marts
description: >
  Tác động của chính sách giảm phí, lệ phí khi nộp trực tuyến (fees/fee_policies.csv): tỷ lệ
  hồ sơ trực tuyến (tỷ số của tổng, hồ sơ tiếp nhận có phí > 0) của các thủ tục được giảm và
  của các thủ tục có phí khác của tỉnh (nhóm so sánh, không thuộc chính sách giảm phí nào
  của tỉnh), trước và sau ngày hiệu lực, và chênh lệch kép (difference-in-differences). Trước:
  tối đa 6 tháng trọn trước tháng có hiệu lực; sau: tối đa 6 tháng trọn từ tháng đó (từ tháng
  sau nếu hiệu lực không từ ngày 1), trong hạn hiệu lực và trong các tháng đã nạp và đã kết
  thúc. Một ô dưới 100 hồ sơ: insufficient_data. / The effect of fee cuts for online filing
  (fees/fee_policies.csv): the online share (ratio of sums over received dossiers with a fee
  > 0) of the covered procedures and of the province's other fee-bearing procedures (the
  comparison, covered by none of the province's fee policies), before and after the policy
  took effect, and the difference-in-differences. Before: up to 6 full months before the month
  of valid_from; after: up to 6 full months from it (from the next month when valid_from is
  not the 1st), within valid_to and the months loaded and closed. A cell under 100 dossiers
  makes the row insufficient_data.
replace: all
grain: [province_code, decision_ref]
units:
  count: [covered_procedure_count, before_months, after_months, covered_before_received,
          covered_before_online, covered_after_received, covered_after_online,
          others_before_received, others_before_online, others_after_received,
          others_after_online]
  fraction: [covered_share_before, covered_share_after, others_share_before, others_share_after]
  percentage_points: [did_pp]
  percent: [reduction_pct]
columns:
  province_code: "Mã tỉnh ban hành chính sách / Province of the policy"
  province_name: "Tên tỉnh / Province name"
  decision_ref: "Văn bản quyết định (một chính sách = tỉnh × văn bản) / Decision (a policy is a province × decision)"
  valid_from: "Ngày hiệu lực (sớm nhất trong các dòng của chính sách) / Effective from (earliest of the policy's rows)"
  valid_to: "Ngày hết hiệu lực (NULL: chưa hết hạn) / Effective until (NULL: open-ended)"
  reduction_pct: "Mức giảm (%), lớn nhất trong các dòng / Reduction (%), the largest of the policy's rows"
  covered_procedures: "Danh sách mã thủ tục được giảm phí (MaTTHC) / List of the covered procedure codes (MaTTHC)"
  covered_procedure_count: "Số thủ tục được giảm phí / Number of covered procedures"
  before_start: "Ngày đầu tháng đầu tiên của giai đoạn trước (NULL: không có tháng) / First day of the first month before (NULL: no month)"
  before_end: "Ngày cuối tháng cuối cùng của giai đoạn trước / Last day of the last month before"
  before_months: "Số tháng dùng cho giai đoạn trước / Months used before"
  after_start: "Ngày đầu tháng đầu tiên của giai đoạn sau (NULL: không có tháng) / First day of the first month after (NULL: no month)"
  after_end: "Ngày cuối tháng cuối cùng của giai đoạn sau / Last day of the last month after"
  after_months: "Số tháng dùng cho giai đoạn sau / Months used after"
  covered_before_received: "Hồ sơ có phí tiếp nhận, thủ tục được giảm, trước / Received dossiers with a fee, covered procedures, before"
  covered_before_online: "Trong đó trực tuyến / Of which online"
  covered_after_received: "Hồ sơ có phí tiếp nhận, thủ tục được giảm, sau / Received dossiers with a fee, covered procedures, after"
  covered_after_online: "Trong đó trực tuyến / Of which online"
  others_before_received: "Hồ sơ có phí tiếp nhận, thủ tục khác của tỉnh, trước / Received dossiers with a fee, the province's other procedures, before"
  others_before_online: "Trong đó trực tuyến / Of which online"
  others_after_received: "Hồ sơ có phí tiếp nhận, thủ tục khác của tỉnh, sau / Received dossiers with a fee, the province's other procedures, after"
  others_after_online: "Trong đó trực tuyến / Of which online"
  covered_share_before: "Tỷ lệ trực tuyến, thủ tục được giảm, trước (0–1) / Online share, covered procedures, before (0–1)"
  covered_share_after: "Tỷ lệ trực tuyến, thủ tục được giảm, sau (0–1) / Online share, covered procedures, after (0–1)"
  others_share_before: "Tỷ lệ trực tuyến, thủ tục khác, trước (0–1) / Online share, other procedures, before (0–1)"
  others_share_after: "Tỷ lệ trực tuyến, thủ tục khác, sau (0–1) / Online share, other procedures, after (0–1)"
  did_pp: "Chênh lệch kép, điểm phần trăm: 100 × ((sau − trước) được giảm − (sau − trước) khác); NULL nếu thiếu số liệu / Difference-in-differences in percentage points: 100 × ((after − before) covered − (after − before) others); NULL with insufficient data"
  status: "ok | insufficient_data (một ô dưới 100 hồ sơ) / ok | insufficient_data (a cell under 100 dossiers)"
*/
-- one policy per province and decision; its rows (one per procedure) normally share dates
WITH policies AS (
    SELECT
        province_code,
        decision_ref,
        min(valid_from) AS valid_from,
        -- open-ended when any of its rows is
        CASE WHEN count(valid_to) = count(*) THEN max(valid_to) END AS valid_to,
        max(reduction_pct) AS reduction_pct,
        list(DISTINCT ma_tthc ORDER BY ma_tthc) AS covered_procedures
    FROM core.fee_policies
    GROUP BY province_code, decision_ref
),

-- the comparison group excludes every procedure any policy of the province covers
province_covered_procedures AS (
    SELECT DISTINCT province_code, ma_tthc FROM core.fee_policies
),

policy_windows AS (
    SELECT
        *,
        row_number() OVER (ORDER BY province_code, decision_ref) AS policy_id,
        date_trunc('month', valid_from)::DATE AS policy_month,
        -- a policy taking effect within a month starts its after window the month after
        CASE WHEN day(valid_from) = 1 THEN date_trunc('month', valid_from)::DATE
             ELSE (date_trunc('month', valid_from) + INTERVAL 1 MONTH)::DATE END AS after_first,
        -- the geography of the policy's province code
        CASE WHEN valid_from < DATE '2025-07-01' THEN 'legacy' ELSE '2025' END
            AS geography_version
    FROM policies
),

-- months with staged dossiers, the running one excluded: windows use full months only
closed_months_loaded AS (
    SELECT DISTINCT received_month AS month
    FROM staging.dossiers
    WHERE quarantine_reason IS NULL
      AND received_month < date_trunc('month', current_date)
),

policy_months AS (
    SELECT
        policy.policy_id,
        loaded.month,
        CASE WHEN loaded.month < policy.policy_month THEN 'before' ELSE 'after' END AS side
    FROM policy_windows AS policy
    JOIN closed_months_loaded AS loaded
        ON (loaded.month >= policy.policy_month - INTERVAL 6 MONTH
            AND loaded.month < policy.policy_month)
        OR (loaded.month >= policy.after_first
            AND loaded.month < policy.after_first + INTERVAL 6 MONTH
            AND (policy.valid_to IS NULL OR last_day(loaded.month) <= policy.valid_to))
),

window_bounds AS (
    SELECT
        policy_id,
        min(month) FILTER (WHERE side = 'before') AS before_start,
        last_day(max(month) FILTER (WHERE side = 'before')) AS before_end,
        count(*) FILTER (WHERE side = 'before') AS before_months,
        min(month) FILTER (WHERE side = 'after') AS after_start,
        last_day(max(month) FILTER (WHERE side = 'after')) AS after_end,
        count(*) FILTER (WHERE side = 'after') AS after_months
    FROM policy_months
    GROUP BY policy_id
),

-- received dossiers with a fee (DESIGN §4, the denominator of online_payment_rate) per
-- agency, procedure and month of the windows
fee_bearing_receptions AS (
    SELECT
        agency_code,
        coalesce(ma_tthc, '') AS ma_tthc,
        received_month AS month,
        count(*) AS received,
        count(*) FILTER (WHERE kenh_thuc_hien = 2) AS received_online
    FROM staging.dossiers
    WHERE quarantine_reason IS NULL
      AND trang_thai <> 3  -- refused at intake: never received
      AND fee_total > 0
      AND received_month IN (SELECT month FROM policy_months)
    GROUP BY ALL
),

cells AS (
    SELECT
        policy.policy_id,
        policy_month.side,
        list_contains(policy.covered_procedures, reception.ma_tthc) AS covered,
        sum(reception.received) AS received,
        sum(reception.received_online) AS received_online
    FROM policy_windows AS policy
    JOIN policy_months AS policy_month USING (policy_id)
    JOIN fee_bearing_receptions AS reception ON reception.month = policy_month.month
    JOIN core.agency_provinces AS agency
        ON agency.agency_code = reception.agency_code
        AND agency.geography_version = policy.geography_version
        AND agency.province_code = policy.province_code
    LEFT JOIN province_covered_procedures AS other_policy
        ON other_policy.province_code = policy.province_code
        AND other_policy.ma_tthc = reception.ma_tthc
    -- covered by this policy, or by none of the province's
    WHERE list_contains(policy.covered_procedures, reception.ma_tthc)
       OR other_policy.ma_tthc IS NULL
    GROUP BY ALL
),

cell_counts AS (
    SELECT
        policy_id,
        sum(received) FILTER (WHERE covered AND side = 'before') AS covered_before_received,
        sum(received_online) FILTER (WHERE covered AND side = 'before') AS covered_before_online,
        sum(received) FILTER (WHERE covered AND side = 'after') AS covered_after_received,
        sum(received_online) FILTER (WHERE covered AND side = 'after') AS covered_after_online,
        sum(received) FILTER (WHERE NOT covered AND side = 'before') AS others_before_received,
        sum(received_online) FILTER (WHERE NOT covered AND side = 'before') AS others_before_online,
        sum(received) FILTER (WHERE NOT covered AND side = 'after') AS others_after_received,
        sum(received_online) FILTER (WHERE NOT covered AND side = 'after') AS others_after_online
    FROM cells
    GROUP BY policy_id
),

policy_figures AS (
    SELECT
        policy.*,
        window_bounds.* EXCLUDE (policy_id),
        -- a policy without any dossier in its windows has no cells: 0 in each
        coalesce(COLUMNS(cell_counts.* EXCLUDE (policy_id)), 0)
    FROM policy_windows AS policy
    LEFT JOIN window_bounds USING (policy_id)
    LEFT JOIN cell_counts USING (policy_id)
),

policy_shares AS (
    SELECT
        *,
        covered_before_online / nullif(covered_before_received, 0) AS covered_share_before,
        covered_after_online / nullif(covered_after_received, 0) AS covered_share_after,
        others_before_online / nullif(others_before_received, 0) AS others_share_before,
        others_after_online / nullif(others_after_received, 0) AS others_share_after,
        -- fewer dossiers in a cell and its share moves by chance more than by a fee cut
        least(covered_before_received, covered_after_received, others_before_received,
              others_after_received) >= 100 AS enough_dossiers
    FROM policy_figures
)

SELECT
    policy.province_code,
    province.province_name,
    policy.decision_ref,
    policy.valid_from,
    policy.valid_to,
    policy.reduction_pct,
    policy.covered_procedures,
    len(policy.covered_procedures) AS covered_procedure_count,
    policy.before_start,
    policy.before_end,
    coalesce(policy.before_months, 0) AS before_months,
    policy.after_start,
    policy.after_end,
    coalesce(policy.after_months, 0) AS after_months,
    policy.covered_before_received,
    policy.covered_before_online,
    policy.covered_after_received,
    policy.covered_after_online,
    policy.others_before_received,
    policy.others_before_online,
    policy.others_after_received,
    policy.others_after_online,
    policy.covered_share_before,
    policy.covered_share_after,
    policy.others_share_before,
    policy.others_share_after,
    CASE WHEN policy.enough_dossiers THEN
        100 * ((policy.covered_share_after - policy.covered_share_before)
               - (policy.others_share_after - policy.others_share_before))
    END AS did_pp,
    CASE WHEN policy.enough_dossiers THEN 'ok' ELSE 'insufficient_data' END AS status
FROM policy_shares AS policy
LEFT JOIN core.provinces AS province
    ON province.province_code = policy.province_code
    AND province.geography_version = policy.geography_version
