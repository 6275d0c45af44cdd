"""How an export may spell the portal's field names, and the key that tells them apart.

Exports other than the portal's name the same fields in another case or with their words
apart: a database's columns in lower case (`mahoso`) or in snake case (`ma_ho_so`, as
PostgreSQL or MySQL tables are named; `MA_HO_SO`, as Oracle folds them), an API's in camel
case (`maHoSo`), an older system's in upper case (`MAHOSO`). The portal's names are
Vietnamese words without their marks (MaHoSo: Mã hồ sơ), so a spreadsheet's header in
Vietnamese (`Mã hồ sơ`, `Ngày tiếp nhận`) names the same fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Where a new word starts in one of the portal's names: NgayTiepNhan, MaTTHC (Ma, TTHC)
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def field_key(name: str) -> str:
    """The key by which a name matches a field whatever its spelling: `MaHoSo`, `mahoso`,
    `ma_ho_so`, `MA_HO_SO` and `Mã hồ sơ` (NFC or NFD) have the same."""
    letters = unicodedata.normalize("NFD", name.lower().replace("đ", "d"))
    return "".join(char for char in letters
                   if not unicodedata.combining(char) and char not in " _\t")


def _snake_case(name: str) -> str:
    return _WORD_START.sub("_", name).lower()


# The spellings of the portal's names (NgayTiepNhan) that an export may use for all of them
CASE_STYLES: tuple[Callable[[str], str], ...] = (
    str.lower, lambda name: name[:1].lower() + name[1:], str.upper,
    _snake_case, lambda name: _snake_case(name).upper())
