"""Row rules for dossier snapshots, run inside DuckDB where the data is.

Every reader of dossier exports (JSON lines, JSON arrays, CSV) gives a query with one row per
line or record of a batch of files: its file, a `read_error` when the record could not be
read at all, and the used fields as text. The rules below type those fields and give each
failing record its first failing reason, in the same statement that reads the files; nothing
else is kept, so personal data never leaves the reader.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import numpy as np

from dvctt_pipeline.sqltext import quote_identifier

# DuckDB reads a line of a JSON-lines export up to this length (its default line limit). A
# dossier record is a few kilobytes; a longer line (documents embedded in the record) keeps
# only the fields the readers read (ingest.long_records) and is read as that.
MAX_LINE_BYTES = 2 * 1024 * 1024
# A line this long or longer is set aside (`line_too_long`) instead: cutting it holds it in
# memory about four times over (a line of 200 MB: 0.78 GB more at the peak).
LONGEST_LINE_BYTES = 128 * 1024 * 1024

# Reason codes, as they appear in quarantine tables and marts.data_quality.
REASONS = {
    "invalid_json": "the line is not valid JSON (truncated or corrupt)",
    "not_an_object": "the record is valid JSON but not an object",
    "missing_ma_ho_so": "MaHoSo is empty or missing",
    "missing_ngay_tiep_nhan": "NgayTiepNhan is empty or missing",
    "line_too_long": f"the line has {LONGEST_LINE_BYTES:,} bytes or more, or the fields the "
                     f"pipeline reads {MAX_LINE_BYTES:,} or more: more than the pipeline reads "
                     "(a limit of the pipeline, not of the format)",
    "ragged_row": "the CSV row has more or fewer fields than the header",
    "bad_date": "a date is not yyyyMMddHHmmss, ISO 8601, seconds or milliseconds since 1970 "
                "(milliseconds as such or as .NET's /Date(...)/), or does not exist",
    "implausible_date": "a date lies outside the accepted range (2000-01-01 to the end of the "
                        "year after the current one), or a yyyyMMddHHmmss has digits missing "
                        "or extra",
    "ambiguous_date": "a date is written as a spreadsheet shows it (03/04/2022), and "
                      "its file does not tell whether the day or the month comes first (no "
                      "number above 12, no date received after the file's export day in one "
                      "order; or its dates show both orders)",
    "unknown_channel": "KenhThucHien is not 1, 2, 3, their names (Trực tiếp, Trực tuyến, "
                       "Bưu chính công ích) or empty",
    "unknown_status": "TrangThaiHoSo is not an integer from 1 to 10",
    "unknown_payment_code": "DuocThanhToanTrucTuyen is not 0, 1, 2 or empty",
    "due_before_received": "NgayHenTra is before NgayTiepNhan",
}

# MaTTHC is a digit, a dot and six digits (1.004370). A spreadsheet, or pandas, takes such a
# code for a number and writes it back without its trailing zeros (1.00437), and the code no
# longer matches the catalogue's: it is read with them again, in dossier exports and in the
# reference files (reference.rows.procedure_codes), as a GSO code gets its leading zeros back.
SHORTENED_PROCEDURE_CODE = r"[0-9]\.[0-9]{1,5}"
PROCEDURE_CODE_LENGTH = len("1.004370")
PROCEDURE_CODE_MACRO = f"""
CREATE OR REPLACE TEMP MACRO procedure_code(text) AS
    CASE WHEN length(text) < {PROCEDURE_CODE_LENGTH}
              AND regexp_full_match(text, '{SHORTENED_PROCEDURE_CODE}')
         THEN rpad(text, {PROCEDURE_CODE_LENGTH}, '0')
         ELSE text END;
"""

TYPE_MACROS = PROCEDURE_CODE_MACRO + r"""
-- yyyyMMddHHmmss and ISO 8601 without an offset are Vietnam local time already; an ISO 8601
-- time with an offset (Z, +07:00) is converted to Vietnam local time, and so are milliseconds
-- since 1970 (UTC), as Java's JSON libraries write a date unless told otherwise: 13 digits
-- from a 1 (September 2001 to May 2033), where a yyyyMMddHHmmss short of a digit starts with
-- 20. strptime alone would take 13 digits for a date (one digit of the seconds): exactly 14
-- are asked for. Seconds since 1970 (Unix time, as PHP and Python write it) are 10 digits
-- from a 1 over the same years. .NET's JSON serialisers (ASP.NET, WCF) write milliseconds as
-- /Date(1646553600000+0700)/, the offset saying only where the writer was. SQL Server writes
-- a datetimeoffset with a space before its offset (2022-03-06 08:30:00.0000000 +07:00),
-- which DuckDB does not read: the space is dropped.
CREATE OR REPLACE TEMP MACRO portal_timestamp(text) AS
    coalesce(
        CASE WHEN length(text) = 14 THEN try_strptime(text, '%Y%m%d%H%M%S') END,
        CASE WHEN length(text) = 13 AND regexp_full_match(text, '1[0-9]{12}')
             THEN timezone('Asia/Ho_Chi_Minh', to_timestamp(text::BIGINT / 1000)) END,
        CASE WHEN length(text) = 10 AND regexp_full_match(text, '1[0-9]{9}')
             THEN timezone('Asia/Ho_Chi_Minh', to_timestamp(text::BIGINT)) END,
        CASE WHEN starts_with(text, '/Date(')
             THEN timezone('Asia/Ho_Chi_Minh', to_timestamp(try_cast(regexp_extract(
                 text, '^/Date\((-?[0-9]{1,15})([+-][0-9]{4})?\)/$', 1) AS BIGINT) / 1000)) END,
        CASE WHEN regexp_matches(text, '(Z|[+-]\d{2}:?\d{2})$')
             THEN timezone('Asia/Ho_Chi_Minh', try_cast(
                 regexp_replace(text, '\s+(Z|[+-]\d{2}:?\d{2})$', '\1') AS TIMESTAMPTZ))
             ELSE try_cast(text AS TIMESTAMP) END);
-- A spreadsheet, or pandas, writes a column of whole numbers that has an empty cell as
-- decimals: a code comes as 2.0, a date typed as a number as 20220301080000.0 (exactly: a
-- float holds 14 digits). Codes and dates are read without that .0.
CREATE OR REPLACE TEMP MACRO without_point_zero(text) AS
    CASE WHEN ends_with(text, '.0') AND regexp_full_match(text, '[0-9]+\.0')
         THEN left(text, length(text) - 2) ELSE text END;
-- A fee in đồng as offices and their tools write it. Đồng have no subunit in use, so a dot or
-- a comma before groups of exactly three digits groups thousands (1.500.000, as Excel on a
-- Vietnamese Windows writes it; 1,500,000), and the other one, if any, then marks decimals
-- (1.500.000,00; 1,500,000.50); a comma before one or two last digits is a decimal comma
-- (50000,5). Spaces (no-break ones too) and a currency sign after the amount (đ, ₫, VNĐ, VND,
-- đồng) are dropped. An amount without a dot or a comma, as most are, is cast at once; text
-- that is no amount (miễn phí) gives no fee, and its record still loads.
CREATE OR REPLACE TEMP MACRO grouped_amount(text) AS
    CASE WHEN regexp_full_match(text, '[0-9]{1,3}(\.[0-9]{3})+|[0-9]{1,3}(,[0-9]{3})+')
             THEN regexp_replace(text, '[.,]', '', 'g')
         WHEN regexp_full_match(text, '[0-9]{1,3}(\.[0-9]{3})+,[0-9]+')
             THEN replace(replace(text, '.', ''), ',', '.')
         WHEN regexp_full_match(text, '[0-9]{1,3}(,[0-9]{3})+\.[0-9]+')
             THEN replace(text, ',', '')
         WHEN regexp_full_match(text, '[0-9]+,[0-9]{1,2}')
             THEN replace(text, ',', '.')
         ELSE text END;
CREATE OR REPLACE TEMP MACRO amount_in_dong(text) AS
    coalesce(
        CASE WHEN NOT contains(text, '.') AND NOT contains(text, ',')
             THEN try_cast(text AS DECIMAL(18, 2)) END,
        try_cast(grouped_amount(regexp_replace(
            text, '(?i)[ \x{00A0}\x{202F}]|(vnđ|vnd|đồng|đ|₫)\.?$', '', 'g')) AS DECIMAL(18, 2)));
-- A date outside the accepted range: from 2000 (before any electronic one-stop system) to the
-- end of next year (a due date may lie ahead); 1900, 2099 and 9999 are placeholders or typos.
-- A date that does not parse but is all digits, not 14, is a yyyyMMddHHmmss with a digit lost
-- or added.
CREATE OR REPLACE TEMP MACRO implausible(text, moment) AS
    CASE WHEN text IS NULL THEN false
         WHEN moment IS NOT NULL
             THEN moment < TIMESTAMP '2000-01-01'
                  OR moment >= date_trunc('year', current_date) + INTERVAL 2 YEAR
         ELSE length(text) <> 14 AND regexp_full_match(text, '[0-9]+') END;
-- The channel as a portal's screen writes it, by its name (DESIGN §2: 1 trực tiếp, 2 trực
-- tuyến, 3 bưu chính công ích; the form's "dịch vụ bưu chính công ích"), in any case, with or
-- without its marks: its code. A code is never longer than 3 characters ("2", its .0 gone),
-- so a name is looked up only past that; another name ("trực tiếp, bưu chính") stays as
-- written, an unknown_channel.
CREATE OR REPLACE TEMP MACRO channel_code(text) AS
    CASE WHEN strlen(text) <= 3 THEN text
         ELSE coalesce(MAP {'tructiep': '1', 'tructuyen': '2', 'buuchinh': '3',
                            'buuchinhcongich': '3', 'dichvubuuchinhcongich': '3'}
                       [replace(lower(strip_accents(text)), ' ', '')], text) END;
-- A code is an exact integer, written as a number or as text (its .0 already gone). "1.5",
-- "0x2" or "1e0" are not codes (a cast alone would round or parse them).
CREATE OR REPLACE TEMP MACRO integer_code(text) AS
    CASE WHEN text = CAST(try_cast(text AS TINYINT) AS VARCHAR)
         THEN try_cast(text AS TINYINT) END;
-- trim() reads every character of a value and copies it: most of the rules' time, while
-- codes and dates seldom have anything to trim. The spaces it removes are Unicode's space
-- separators, and of ASCII only the space is one, so a value in ASCII alone (as many bytes as
-- characters) that neither starts nor ends with a space is kept as it is.
CREATE OR REPLACE TEMP MACRO blank_to_null(text) AS
    CASE WHEN strlen(text) = length(text) AND NOT starts_with(text, ' ')
              AND NOT ends_with(text, ' ')
         THEN nullif(text, '')
         ELSE nullif(trim(text), '') END;
"""

# Dates written as a spreadsheet shows them: a CSV that Excel saved, a JSON export of a service
# formatting dates in its culture (ingest.readers: an export's date order). Apart from
# TYPE_MACROS, which every judging defines again: defining these too cost 1.8 ms more for each
# file, 2 s for a thousand small CSV exports, where only those written so need them.
SPREADSHEET_DATE_MACROS = r"""
-- A date as a spreadsheet shows it, the year last (15/03/2022 08:30, 3/15/2022 8:30 AM,
-- 15.03.2022): its first two numbers, day and month in an order only its file can tell
-- (ingest.readers: an export's date order), and its year. NULL for any other text.
CREATE OR REPLACE TEMP MACRO spreadsheet_date(text) AS
    CASE WHEN regexp_matches(text, '^\s*[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}\b')
         THEN regexp_extract(text, '([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})',
                             ['first', 'second', 'year'])
              ::STRUCT(first INTEGER, second INTEGER, year INTEGER) END;
-- Such a date as strptime reads it: slashes between its numbers, and the half of the day in
-- English, where Windows in Vietnamese writes SA (sáng) and CH (chiều) for AM and PM.
CREATE OR REPLACE TEMP MACRO slashed_date(text) AS
    regexp_replace(regexp_replace(
        regexp_replace(trim(text), '^([0-9]+)[.-]([0-9]+)[.-]', '\1/\2/'),
        '(?i)\s+SA$', ' AM'), '(?i)\s+CH$', ' PM');
-- Such a date written again as ISO 8601, read day first or month first; text the order does
-- not read (31/02/2022) is kept as written, and is then a bad_date.
CREATE OR REPLACE TEMP MACRO in_iso_order(text, day_first) AS
    coalesce(strftime(
        CASE WHEN spreadsheet_date(text) IS NULL THEN NULL
             WHEN day_first THEN try_strptime(slashed_date(text),
                 ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y',
                  '%d/%m/%Y %I:%M:%S %p', '%d/%m/%Y %I:%M %p'])
             ELSE try_strptime(slashed_date(text),
                 ['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y',
                  '%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %I:%M %p']) END,
        '%Y-%m-%d %H:%M:%S'), text);
-- Whether such a date reads as two different days in the two orders (05/03/2022; 03/03/2022
-- is the same day either way).
CREATE OR REPLACE TEMP MACRO order_matters(text) AS
    coalesce(spreadsheet_date(text).first <> spreadsheet_date(text).second, false);
"""

# The judged records of a reader's query: every row it gives, with the reason it is set aside.
JUDGED_SQL = """
SELECT
    file_index,
    blank,
    ma_ho_so,
    ma_don_vi_xu_ly,
    don_vi_xu_ly,
    ma_tthc,
    ma_linh_vuc,
    kenh_thuc_hien,
    kenh_was_empty,
    ngay_tiep_nhan,
    ngay_hen_tra,
    ngay_ket_thuc_xu_ly,
    ngay_tra,
    trang_thai,
    thanh_toan_truc_tuyen,
    fee_total,
    CASE
        WHEN blank THEN NULL
        WHEN read_error IS NOT NULL THEN read_error
        WHEN ma_ho_so IS NULL THEN 'missing_ma_ho_so'
        WHEN ngay_tiep_nhan_text IS NULL THEN 'missing_ngay_tiep_nhan'
        WHEN has_implausible_date THEN 'implausible_date'
        WHEN ngay_tiep_nhan IS NULL OR has_bad_date THEN 'bad_date'
        WHEN kenh_thuc_hien IS NULL OR kenh_thuc_hien NOT IN (1, 2, 3) THEN 'unknown_channel'
        WHEN trang_thai IS NULL OR trang_thai NOT BETWEEN 1 AND 10 THEN 'unknown_status'
        WHEN thanh_toan_text IS NOT NULL AND coalesce(thanh_toan_truc_tuyen NOT IN (0, 1, 2), true)
            THEN 'unknown_payment_code'
        WHEN ngay_hen_tra < ngay_tiep_nhan THEN 'due_before_received'
    END AS reason
FROM (
    SELECT
        file_index,
        blank,
        read_error,
        ma_ho_so,
        ma_don_vi_xu_ly,
        -- as written: names are trimmed and NFC-normalised when stored, once per distinct
        -- name (no rule reads them; trimming every row's name was a quarter of the trims)
        don_vi_xu_ly,
        ma_tthc,
        ma_linh_vuc,
        kenh_thuc_hien IS NULL AS kenh_was_empty,
        integer_code(channel_code(coalesce(kenh_thuc_hien, '1'))) AS kenh_thuc_hien,
        ngay_tiep_nhan AS ngay_tiep_nhan_text,
        ngay_tiep_nhan_parsed AS ngay_tiep_nhan,
        ngay_hen_tra_parsed AS ngay_hen_tra,
        ngay_ket_thuc_parsed AS ngay_ket_thuc_xu_ly,
        ngay_tra_parsed AS ngay_tra,
        -- a date that is given but does not parse is an error; an empty one is simply "not yet"
        (ngay_hen_tra IS NOT NULL AND ngay_hen_tra_parsed IS NULL)
            OR (ngay_ket_thuc_xu_ly IS NOT NULL AND ngay_ket_thuc_parsed IS NULL)
            OR (ngay_tra IS NOT NULL AND ngay_tra_parsed IS NULL) AS has_bad_date,
        implausible(ngay_tiep_nhan, ngay_tiep_nhan_parsed)
            OR implausible(ngay_hen_tra, ngay_hen_tra_parsed)
            OR implausible(ngay_ket_thuc_xu_ly, ngay_ket_thuc_parsed)
            OR implausible(ngay_tra, ngay_tra_parsed) AS has_implausible_date,
        integer_code(trang_thai) AS trang_thai,
        thanh_toan_truc_tuyen AS thanh_toan_text,
        coalesce(integer_code(thanh_toan_truc_tuyen), 0) AS thanh_toan_truc_tuyen,
        fee_total
    FROM (
        SELECT *,
            portal_timestamp(ngay_tiep_nhan) AS ngay_tiep_nhan_parsed,
            portal_timestamp(ngay_hen_tra) AS ngay_hen_tra_parsed,
            portal_timestamp(ngay_ket_thuc_xu_ly) AS ngay_ket_thuc_parsed,
            portal_timestamp(ngay_tra) AS ngay_tra_parsed
        FROM (
            -- every field trimmed once (trimming copies the text: a quarter of the rules' time
            -- when each date was trimmed again by every rule that reads it)
            SELECT
                file_index,
                blank,
                read_error,
                blank_to_null(ma_ho_so) AS ma_ho_so,
                blank_to_null(ma_don_vi_xu_ly) AS ma_don_vi_xu_ly,
                don_vi_xu_ly,
                procedure_code(blank_to_null(ma_tthc)) AS ma_tthc,
                blank_to_null(ma_linh_vuc) AS ma_linh_vuc,
                without_point_zero(blank_to_null(kenh_thuc_hien)) AS kenh_thuc_hien,
                without_point_zero(blank_to_null(ngay_tiep_nhan)) AS ngay_tiep_nhan,
                without_point_zero(blank_to_null(ngay_hen_tra)) AS ngay_hen_tra,
                without_point_zero(blank_to_null(ngay_ket_thuc_xu_ly)) AS ngay_ket_thuc_xu_ly,
                without_point_zero(blank_to_null(ngay_tra)) AS ngay_tra,
                without_point_zero(blank_to_null(trang_thai)) AS trang_thai,
                without_point_zero(blank_to_null(thanh_toan_truc_tuyen)) AS thanh_toan_truc_tuyen,
                fee_total
            FROM ({records})
        )
    )
)
"""

# Per file of the batch: where its lines start in judged_records, its lines, its records
# (blank lines are not records), how many of them were set aside, how many have a MaHoSo and
# how many were set aside for a date that does not read.
JUDGED_FILES_SQL = """
CREATE OR REPLACE TEMP TABLE judged_files AS
SELECT file_index, min(rowid) AS first_row, count(*) AS lines,
       count(*) FILTER (WHERE NOT blank) AS records, count(reason) AS quarantined,
       count(ma_ho_so) AS with_ma_ho_so, count(*) FILTER (WHERE reason = 'bad_date') AS bad_dates
FROM judged_records
GROUP BY file_index
"""


@contextmanager
def _judged(con: duckdb.DuckDBPyConnection, records: str) -> Iterator[str]:
    """The judged records of `records` (JUDGED_SQL), for the caller to fill judged_records
    with; judged_files is counted again once it has. Not after a failed fill: the statement
    that failed may have aborted the caller's transaction."""
    con.execute(TYPE_MACROS)
    yield JUDGED_SQL.format(records=records)
    con.execute(JUDGED_FILES_SQL)


def judge_records(
    con: duckdb.DuckDBPyConnection, records: str, params: dict[str, object],
    file_indexes: Sequence[int] | None = None,
) -> None:
    """Read and judge a batch of files in one statement into `judged_records`.

    `records` is a reader's query (see ingest.readers): per physical line or record, its
    file's index in the batch, `blank`, a `read_error` when it could not be read at all, the
    used fields as text and `fee_total`. Its rows come in file order, and a table created
    from a query keeps that order, so a record's position in its file is its rowid minus the
    first rowid of its file (`judged_files`): the scan stays parallel, where numbering rows
    with a window function would read the files on one thread.

    With `file_indexes`, files of the batch already in `judged_records` whose rows were
    deleted are judged again: file i of `records` is the batch's file `file_indexes[i]`. An
    insert keeps the query's order, after the table's rows, so each file's rows stay
    contiguous and positions stay rowid minus the first rowid of the file.
    """
    fill = "CREATE OR REPLACE TEMP TABLE judged_records AS "
    if file_indexes is not None:
        fill = "INSERT INTO judged_records "
        records = ("SELECT * REPLACE ($file_indexes[file_index::BIGINT + 1] AS file_index) "
                   f"FROM ({records})")
        params = {**params, "file_indexes": list(file_indexes)}
    with _judged(con, records) as judged:
        con.execute(fill + judged, params)


def judge_records_again(
    con: duckdb.DuckDBPyConnection, records: str, params: dict[str, object],
    row_ids: np.ndarray
) -> None:
    """Judge some rows of `judged_records` again: the rows `row_ids` (int64) get the judged
    records of `records`, in that order. An update keeps the row ids, so positions stay what
    they were. The row ids are paired with the records by a positional join, not indexed in a
    list parameter: that grew with the square of the rows, 12 s for a file of a million `{}`
    lines."""
    with _judged(con, records) as judged:
        con.execute("CREATE OR REPLACE TEMP TABLE judged_again AS " + judged, params)
        columns = [column for column, *_ in
                   con.execute("SELECT * FROM judged_again LIMIT 0").description
                   if column != "file_index"]
        assignments = ", ".join(f"{quote_identifier(column)} = again.{quote_identifier(column)}"
                                for column in columns)
        con.register("judged_again_row_ids", {"row_id": row_ids})
        con.execute(f"""
            UPDATE judged_records SET {assignments}
            FROM (SELECT * FROM judged_again POSITIONAL JOIN judged_again_row_ids) AS again
            WHERE judged_records.rowid = again.row_id
            """)
        con.unregister("judged_again_row_ids")
        con.execute("DROP TABLE judged_again")
