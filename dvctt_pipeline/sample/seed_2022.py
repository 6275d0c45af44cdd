"""Figures of the 2022 seed report (DESIGN §9) that the sample generator reproduces.

The report covers January–April 2022. It names the national online share, the top and
bottom five provinces of two rankings and the targets three provinces assigned for 2022.
Where the report gives only the ends of a range ("2.72%–5.76%", "55.25%–86.80%"),
the provinces in between get invented values inside that range, in report order, so that
the rankings come out exactly as printed. Provinces the report does not name get
seeded random values inside the MIDDLE bands below, which leave a gap of at least two
percentage points to the named provinces so that sampling noise cannot reorder them.
"""

from __future__ import annotations

from datetime import date

PERIOD_START = date(2022, 1, 1)
PERIOD_END = date(2022, 4, 30)

# National share of dossiers received online, January–April 2022.
NATIONAL_ONLINE_SHARE_ALL = 0.2489

# Top 5 by online_share_all, descending. TP.HCM, Quảng Ninh, Ninh Bình and Bắc Giang are
# set directly; Hòa Bình's figure follows from its per-level plan (HOA_BINH_LEVEL_SHARES).
ONLINE_SHARE_ALL_TOP5: dict[str, float | None] = {
    "79": 0.6010,  # Hồ Chí Minh
    "17": None,  # Hòa Bình, ≈ 0.553 from its level plan
    "22": 0.4990,  # Quảng Ninh
    "37": 0.4560,  # Ninh Bình
    "24": 0.4220,  # Bắc Giang
}
# Bottom 5, descending: the report prints the range 5.76% (Hưng Yên) to 2.72% (Quảng Bình).
ONLINE_SHARE_ALL_BOTTOM5: dict[str, float] = {
    "33": 0.0576,  # Hưng Yên
    "75": 0.0489,  # Đồng Nai
    "40": 0.0412,  # Nghệ An
    "95": 0.0347,  # Bạc Liêu
    "44": 0.0272,  # Quảng Bình
}
ONLINE_SHARE_ALL_MIDDLE = (0.080, 0.390)

# Top 5 by dvctt_uptake_rate, descending; the report prints 86.80% to 55.25%.
DVCTT_UPTAKE_TOP5: dict[str, float] = {
    "22": 0.8680,  # Quảng Ninh
    "79": 0.7850,  # Hồ Chí Minh
    "12": 0.7140,  # Lai Châu
    "17": 0.6320,  # Hòa Bình
    "27": 0.5525,  # Bắc Ninh
}
# Bottom 5, descending (the report writes Đắk Nông as "Đắc Nông"); no figures printed.
DVCTT_UPTAKE_BOTTOM5: dict[str, float] = {
    "45": 0.1750,  # Quảng Trị
    "31": 0.1550,  # Hải Phòng
    "62": 0.1350,  # Kon Tum
    "06": 0.1150,  # Bắc Kạn
    "67": 0.0950,  # Đắk Nông
}
DVCTT_UPTAKE_MIDDLE = (0.210, 0.520)

# Share of eligible procedures offered end-to-end (level 4): "more than 97%".
FULL_ONLINE_PROVISION_NATIONAL_MIN = 0.97

# Targets for 2022 and the per-level plans that make the compliance mix visible.
# Hòa Bình: 55% online for its 17 departments and 10 district People's Committees.
HOA_BINH_CODE = "17"
HOA_BINH_DEPARTMENTS = 17
HOA_BINH_TARGET_ALL = 0.55
# Departments above target on average (most meet it, not all); districts near it.
HOA_BINH_LEVEL_SHARES = {"province": 0.66, "district": 0.52, "commune": 0.27}

# Khánh Hòa: online receipt of level 3–4 dossiers, a range per level.
KHANH_HOA_CODE = "56"
KHANH_HOA_TARGETS_DVCTT = {
    "province": (0.45, 0.50),
    "district": (0.35, 0.40),
    "commune": (0.25, 0.30),
}
# Planned online_share_dvctt per level: departments around the stretch, districts between
# min and stretch, communes around the minimum, so each level shows a mix of statuses.
KHANH_HOA_LEVEL_SHARES_DVCTT = {"province": 0.50, "district": 0.37, "commune": 0.26}

# Thái Nguyên: level-4 dossiers resolved online ≥ 55% for departments and localities.
THAI_NGUYEN_CODE = "19"
THAI_NGUYEN_TARGET_FULL = 0.55
THAI_NGUYEN_PLANNED_SHARE_FULL = 0.55

# Fee incentives for online filing. The report dates TP.HCM's cut to 2021: the sample's
# resolution of 2021 takes effect in February 2022, Quảng Nam's in March, so that the demo's
# months (January–April 2022) hold months before and after each.
HCM_CODE = "79"
HCM_FEE_REDUCED_PROCEDURES = 6
HCM_FEE_POLICY_FROM = date(2022, 2, 1)
QUANG_NAM_CODE = "49"
QUANG_NAM_FEES_REDUCED = 8  # lệ phí
QUANG_NAM_CHARGES_REDUCED = 5  # phí
QUANG_NAM_POLICY_FROM = date(2022, 3, 1)
QUANG_NAM_POLICY_TO = date(2022, 12, 31)
FEE_REDUCTION_PCT = 50
