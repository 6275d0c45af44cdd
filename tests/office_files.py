"""Files as a provincial office's Windows and Excel save them, for tests that build them."""

from __future__ import annotations

import unicodedata

# grave, acute, tilde, hook above, dot below: the tones Windows-1258 writes as combining marks
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """The text as Excel saves "CSV (Comma delimited)" on a Vietnamese Windows: Windows-1258
    has the base letters (â, ă, ơ...) precomposed and the tones as combining marks ('ộ' is
    'ô' and a dot below)."""
    def spelled(character: str) -> str:
        try:
            character.encode("cp1258")
            return character
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", character)
            tones = "".join(mark for mark in decomposed if mark in TONE_MARKS)
            base = "".join(mark for mark in decomposed if mark not in TONE_MARKS)
            return unicodedata.normalize("NFC", base) + tones
    return "".join(map(spelled, text)).encode("cp1258")
