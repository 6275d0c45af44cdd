from datetime import date

import pytest

from dvctt_pipeline.reference import admin_units as au


def test_geography_switches_on_reorganisation_day() -> None:
    assert au.geography_on(date(2025, 6, 30)) == "legacy"
    assert au.geography_on(au.REORGANISATION_DATE) == "2025"


def test_province_counts_and_names() -> None:
    legacy = au.provinces("legacy")
    current = au.provinces("2025")
    assert len(legacy) == 63 and legacy["province_code"].is_unique
    assert len(current) == 34 and current["province_code"].is_unique
    hoa_binh = legacy.set_index("province_code").loc["17"]
    assert hoa_binh["province_name"] == "Hòa Bình"
    assert hoa_binh["province_full_name"] == "Tỉnh Hòa Bình"
    assert "Hồ Chí Minh" in set(current["province_name"])


def test_unknown_geography_is_rejected() -> None:
    with pytest.raises(ValueError):
        au.provinces("1990")


def test_hoa_binh_has_ten_districts() -> None:
    districts = au.districts()
    hoa_binh = districts[districts["province_code"] == "17"]
    assert len(hoa_binh) == 10
    assert "Huyện Lạc Sơn" in set(hoa_binh["district_name"])
    assert districts["district_code"].str.len().eq(3).all()


def test_communes_have_five_digit_codes() -> None:
    legacy = au.communes("legacy")
    current = au.communes("2025")
    assert legacy["commune_code"].is_unique and current["commune_code"].is_unique
    assert legacy["commune_code"].str.len().eq(5).all()
    assert legacy["district_code"].notna().all()
    assert current["district_code"].isna().all()
    assert set(current["province_code"]) == set(au.provinces("2025")["province_code"])


def test_every_legacy_province_maps_once() -> None:
    mapping = au.province_mapping_2025()
    assert len(mapping) == 63 and mapping["old_province_code"].is_unique
    assert set(mapping["old_province_code"]) == set(au.provinces("legacy")["province_code"])
    assert set(mapping["new_province_code"]) == set(au.provinces("2025")["province_code"])
    new_by_old = mapping.set_index("old_province_code")["new_province_code"]
    phu_tho = au.provinces("2025").set_index("province_name").loc["Phú Thọ", "province_code"]
    assert new_by_old["17"] == phu_tho
    assert new_by_old["01"] == "01"


def test_results_are_copies() -> None:
    au.provinces("legacy").drop(columns="province_key", inplace=True)
    assert "province_key" in au.provinces("legacy").columns
