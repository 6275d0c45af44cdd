"""The report's words and number formats, in Vietnamese as analysts write them."""

from __future__ import annotations

from datetime import date, datetime

NO_DATA = "Chưa có số liệu"

METRIC_TITLES = {
    "online_share_all": "Tỷ lệ hồ sơ trực tuyến",
    "online_share_dvctt": "Tỷ lệ hồ sơ trực tuyến của các DVCTT",
    "online_share_full": "Tỷ lệ hồ sơ trực tuyến toàn trình",
    "dvctt_uptake_rate": "Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến",
    "full_online_provision_rate": "Tỷ lệ thủ tục cung cấp DVCTT toàn trình",
    "on_time_rate": "Tỷ lệ giải quyết đúng hạn",
    "online_payment_rate": "Tỷ lệ thanh toán trực tuyến",
}

LEVEL_NAMES = {
    "province": "Cấp tỉnh (sở, ban, ngành)",
    "district": "Cấp huyện",
    "commune": "Cấp xã",
}


def metric_title(metric: str) -> str:
    return METRIC_TITLES.get(metric, metric)


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


def in_sentence(title: str) -> str:
    """A title continued mid-sentence: its first letter lowered, acronyms (DVCTT) kept."""
    return title[:1].lower() + title[1:]


def period_label(period_type: str, month: date) -> str:
    """E.g. "Tháng 04/2022", or "Lũy kế từ 01/2022 đến hết tháng 04/2022" (year to date)."""
    if period_type == "ytd":
        return f"Lũy kế từ 01/{month.year} đến hết tháng {month:%m/%Y}"
    return f"Tháng {month:%m/%Y}"


def moment(when: datetime) -> str:
    """E.g. "09:30 ngày 05/05/2022"."""
    return f"{when:%H:%M ngày %d/%m/%Y}"


def percent(value: float | None, digits: int = 2) -> str:
    """24.89 % written the Vietnamese way: decimal comma, "24,89%"; a dash when unknown."""
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value * 100:.{digits}f}".replace(".", ",") + "%"


def points(value: float | None, digits: int = 2) -> str:
    """A difference in percentage points with its sign and a decimal comma, "-5,00"."""
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:+.{digits}f}".replace(".", ",")
