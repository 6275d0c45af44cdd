"""Match keys for Vietnamese agency names as exports spell them.

Exports write the same agency many ways: NFC or NFD Unicode, old or new tone placement
(Hoà / Hòa), "Đắc" for "Đắk", "TP.HCM" for "Thành phố Hồ Chí Minh", "Ủy ban nhân dân" for
"UBND", any case and spacing. Unicode and tone normalisation come from `vietnamadminunits`;
the administrative abbreviations it does not know are listed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from unidecode import unidecode

# Applied to the lower-case, accent-free text, whole words only, in this order; compiled once,
# as an agencies.csv has some 25 000 spellings to key
_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b{pattern}\b"), replacement) for pattern, replacement in (
        (r"uy ban nhan dan", "ubnd"),
        (r"tp\s*\.?\s*hcm", "thanh pho ho chi minh"),
        (r"tp\s*\.?\s*ho chi minh", "thanh pho ho chi minh"),
        (r"tp\s*\.\s*", "thanh pho "),
        (r"tp", "thanh pho"),
        (r"hcm", "ho chi minh"),
        (r"dac", "dak"),
    )
)
_NOT_KEPT = re.compile(r"[^a-z0-9]+")


def name_key(name: str | None) -> str | None:
    """A spelling-insensitive key: 'UBND huyện Đắc Song' and 'Ủy ban nhân dân Huyện Đắk Song'
    give the same key."""
    if name is None:
        return None
    unicode_normalize, correct_typos = _normalisers()
    text = unidecode(correct_typos(unicode_normalize(name))).lower()
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    key = _NOT_KEPT.sub("", text)
    return key or None


@cache
def _normalisers() -> tuple[Callable[[str], str], Callable[[str], str]]:
    """vietnamadminunits' Unicode and tone normalisation. Importing its parser compiles
    thousands of patterns (1.5–4 s); every process that loads the Dagster definitions imports
    this module for the warehouse's name_key function, and most of them match no name."""
    from vietnamadminunits.parser.utils import correct_typos, unicode_normalize

    return unicode_normalize, correct_typos
