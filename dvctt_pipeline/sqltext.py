"""Quoting text into DuckDB SQL, for the statements that cannot take parameters (COMMENT ON,
ATTACH, COPY TO, CREATE TABLE)."""


def quote_literal(text: str) -> str:
    """A string literal: 'it''s'."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """A column or table name as written, whatever its characters (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'
