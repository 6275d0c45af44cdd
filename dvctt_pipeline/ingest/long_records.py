"""A JSON record too long for DuckDB to read as a line, cut to the fields the pipeline reads.

A portal may embed a dossier's scanned documents in its record (base64, megabytes): the record
is valid and counts, but its line is longer than DuckDB reads at once
(validate.dossier_rules.MAX_LINE_BYTES). The fields the metrics use are few and short, so the
line is parsed here and written again with those members alone, each as written (a number's
spelling, escapes, a repeated key in its place), and the readers judge the cut line as they
would judge the whole one: the same values, the same reasons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

from dvctt_pipeline.ingest.field_names import field_key

# NaN and Infinity are taken, as DuckDB takes them
_DECODER = json.JSONDecoder()
_BLANKS = re.compile(r"[ \t\n\r]*")
BOM = "\ufeff"
# What a cut line is when the line holds no object; the readers judge these as they would the
# line itself: `invalid_json`, `not_an_object`, and a blank line is no record at all.
INVALID_JSON = b"{\x1f"
NOT_AN_OBJECT = b"[]"
BLANK = b""


def line_text(line: bytes | bytearray) -> str:
    """A line's text for cut_to_fields: bytes that are not UTF-8 pass through as they were,
    for the readers to judge."""
    return str(line, "utf-8", "surrogateescape")


def cut_to_fields(line: str, fields_by_key: Collection[str]) -> bytes:
    """`line` (line_text), a JSON line without its line end, with only the members of its
    object whose name's field_key is one of `fields_by_key` (a byte order mark kept in front),
    in UTF-8."""
    bom = BOM if line.startswith(BOM) else ""
    text = line[len(bom):]
    if not text.strip(" "):
        return BLANK  # as the readers tell a blank line: spaces alone (a tab is not blank)
    start = _BLANKS.match(text).end()
    try:
        if not text.startswith("{", start):
            _whole_value(text, start)
            return NOT_AN_OBJECT
        members = _object_members(text, start)
    except (ValueError, RecursionError):
        return INVALID_JSON
    kept = ",".join(f"{key}:{value}" for name, key, value in members
                    if field_key(name) in fields_by_key)
    return (bom + "{" + kept + "}").encode("utf-8", "surrogateescape")


def _whole_value(text: str, start: int) -> None:
    """Raise ValueError unless `text` from `start` on is one JSON value and blanks."""
    _, end = _DECODER.raw_decode(text, start)
    if _BLANKS.match(text, end).end() != len(text):
        raise ValueError("text after the value")


def _object_members(text: str, start: int) -> list[tuple[str, str, str]]:
    """The members of the object that `text` holds from `start` (its `{`) to its end, as
    (name, key as written, value as written); ValueError when it is not one JSON object."""
    members: list[tuple[str, str, str]] = []
    at = _BLANKS.match(text, start + 1).end()
    if text.startswith("}", at):
        at += 1
    else:
        while True:
            if not text.startswith('"', at):
                raise ValueError("a key that is not a string")
            name, key_end = _DECODER.raw_decode(text, at)
            colon = _BLANKS.match(text, key_end).end()
            if not text.startswith(":", colon):
                raise ValueError("a key without its value")
            value_start = _BLANKS.match(text, colon + 1).end()
            _, value_end = _DECODER.raw_decode(text, value_start)
            members.append((name, text[at:key_end], text[value_start:value_end]))
            at = _BLANKS.match(text, value_end).end()
            if text.startswith(",", at):
                at = _BLANKS.match(text, at + 1).end()
                continue
            if not text.startswith("}", at):
                raise ValueError("a member not followed by , or }")
            at += 1
            break
    if _BLANKS.match(text, at).end() != len(text):
        raise ValueError("text after the object")
    return members
