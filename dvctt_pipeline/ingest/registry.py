"""The file registry `meta.source_files`: each landing file is loaded once, whatever its
kind, in one transaction with the other files of its batch.

A file that cannot be read is recorded as failed with a message saying what to fix, and the
other files still load: when a batch read in one statement fails, it is read again in
halves, down to the bad file alone. A file already loaded (same content hash) is not loaded
twice; a changed file with the same name supersedes its earlier version: the old rows go,
the old registry entry stays, marked superseded. Per file, rows read = rows loaded + rows
quarantined. An entry of the landing folder that is not read (a badly named folder or file,
a named pipe, a link that leads nowhere, a file of another kind) is recorded too, failed or
skipped with why, and never opened.

A file too big for one statement is stored piece by piece, each piece committed on its own
while the file's entry says `loading`; one last transaction makes it `loaded` (superseding
its earlier version). Models read only the rows of loaded files, so a file is still seen whole
or not at all, and an ingest that finds a `loading` entry (its load was killed) deletes what
that load stored and loads the file again.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb

from dvctt_pipeline.ingest.guards import UnreadableFile, check_landing_file, not_utf8
from dvctt_pipeline.ingest.landing import (
    LandingFile,
    RegisteredFile,
    is_unchanged,
    registered_versions,
)
from dvctt_pipeline.settings import MEMORY_LIMIT_ENV, memory_limit_from_env
from dvctt_pipeline.warehouse import transaction

# Told which files are new or changed before any of them is read (the run's GX worker starts
# by their size, defs/gx_worker.py).
BeforeReading = Callable[[Sequence[LandingFile]], None]


@dataclass(frozen=True)
class RowCounts:
    read: int
    loaded: int
    quarantined: int


@dataclass(frozen=True)
class FileOutcome:
    relative_path: str
    status: str  # loaded | unchanged | duplicate | failed | skipped
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str | None = None


@dataclass(frozen=True)
class StoredFile:
    """A file of a batch as it is stored: its position in the batch and its registry id."""

    index: int
    landing_file: LandingFile
    file_id: int


@dataclass(frozen=True)
class SourceKind:
    """How one kind of landing file is loaded.

    `read` fills and judges connection-local temporary tables from a batch of files, outside
    any transaction, and returns per file its counts or why it cannot be loaded; it raises
    when the batch cannot be read as a whole. `store` copies the judged rows of the batch's
    readable files into the warehouse tables under their file_ids. `row_tables` are the
    tables holding a file's rows by file_id. Files with the same `batch_key` may be read
    together, up to `batch_bytes` of them in `batch_files` files at most; a key of None means
    alone. A file `in_pieces` tells too big for one statement is loaded alone by
    `load_pieces`, which reads and stores it piece by piece under its file_id, each piece in a
    transaction of its own.
    """

    name: str
    row_tables: tuple[str, ...]
    read: Callable[[duckdb.DuckDBPyConnection, Sequence[LandingFile]],
                   list[RowCounts | UnreadableFile]]
    store: Callable[[duckdb.DuckDBPyConnection, Sequence[StoredFile]], None]
    batch_key: Callable[[LandingFile], str | None] = lambda _: None
    batch_bytes: int = 0
    batch_files: int = 1
    in_pieces: Callable[[LandingFile], bool] = lambda _: False
    load_pieces: Callable[[duckdb.DuckDBPyConnection, LandingFile, int], RowCounts] | None = None


def one_file_at_a_time(
    name: str, row_tables: tuple[str, ...],
    read: Callable[[duckdb.DuckDBPyConnection, LandingFile], RowCounts],
    store: Callable[[duckdb.DuckDBPyConnection, LandingFile, int], None],
) -> SourceKind:
    """A kind whose files are always read alone (read raises for a file it cannot load)."""

    def read_batch(
        con: duckdb.DuckDBPyConnection, files: Sequence[LandingFile]
    ) -> list[RowCounts | UnreadableFile]:
        (landing_file,) = files
        return [read(con, landing_file)]

    def store_batch(con: duckdb.DuckDBPyConnection, stored: Sequence[StoredFile]) -> None:
        for file in stored:
            store(con, file.landing_file, file.file_id)

    return SourceKind(name, row_tables, read_batch, store_batch)


@dataclass(frozen=True)
class Candidate:
    """A file to load: new, or changed since its registered version."""

    landing_file: LandingFile
    content_hash: str | None
    registered: RegisteredFile | None


@dataclass
class Batch:
    """The files to read in one statement. Its size and contents are kept as files join: a
    folder of 20 000 small exports is one batch, which summing its sizes and comparing its
    hashes again at every file took minutes to fill."""

    kind: SourceKind
    candidates: list[Candidate] = field(default_factory=list, init=False)
    # sized by text, not by bytes on disk: 1 GB of gzipped exports is 7-8 GB of records
    text_bytes: int = field(default=0, init=False)
    content_hashes: set[str] = field(default_factory=set, init=False)

    def takes(self, candidate: Candidate) -> bool:
        if not self.candidates:
            return True
        key = self.kind.batch_key(candidate.landing_file)
        return (key is not None and key == self.kind.batch_key(self.candidates[0].landing_file)
                and len(self.candidates) < self.kind.batch_files
                and self.text_bytes + candidate.landing_file.text_bytes <= self.kind.batch_bytes)

    def add(self, candidate: Candidate) -> None:
        self.candidates.append(candidate)
        self.text_bytes += candidate.landing_file.text_bytes
        if candidate.content_hash is not None:
            self.content_hashes.add(candidate.content_hash)

    def holds_content(self, content_hash: str | None) -> bool:
        return content_hash in self.content_hashes

    def taken(self) -> list[Candidate]:
        """The batch's files, leaving it empty."""
        candidates = self.candidates
        self.candidates, self.text_bytes, self.content_hashes = [], 0, set()
        return candidates


@dataclass
class LoadedContents:
    """The loaded files by content hash: read once per ingest and kept up to date as files
    are registered (a query per new file took 12 s of the first load of 20 000 small
    exports)."""

    paths: dict[str, str]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> LoadedContents:
        return cls(dict(con.execute(
            "SELECT content_hash, any_value(relative_path) FROM meta.source_files "
            "WHERE status = 'loaded' AND content_hash IS NOT NULL GROUP BY ALL").fetchall()))

    def twin(self, content_hash: str | None, relative_path: str) -> str | None:
        """Another loaded file with this content, if there is one."""
        path = self.paths.get(content_hash) if content_hash else None
        return path if path != relative_path else None

    def registered(self, candidate: Candidate, status: str) -> None:
        """The file is registered as `status`, superseding its earlier version."""
        path, earlier = candidate.landing_file.relative_path, candidate.registered
        if earlier and earlier.content_hash and self.paths.get(earlier.content_hash) == path:
            del self.paths[earlier.content_hash]
        if status == "loaded" and candidate.content_hash:
            self.paths.setdefault(candidate.content_hash, path)


def ingest_files(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, files: Iterable[LandingFile],
    before_reading: BeforeReading | None = None,
) -> list[FileOutcome]:
    """Load the new and changed files, in batches; one outcome per file, in file order."""
    files = list(files)
    _discard_interrupted_loads(con, kind)
    outcomes: dict[str, FileOutcome] = {}
    changed: list[tuple[LandingFile, RegisteredFile | None]] = []
    registered_files = registered_versions(con)
    for landing_file in files:
        registered = registered_files.get(landing_file.relative_path)
        if is_unchanged(landing_file, registered):
            outcomes[landing_file.relative_path] = FileOutcome(landing_file.relative_path,
                                                               "unchanged")
        else:
            changed.append((landing_file, registered))
    if before_reading:
        before_reading([landing_file for landing_file, _ in changed])
    batch = Batch(kind)
    loaded = LoadedContents.read(con)

    def settle(candidate: Candidate, outcome: FileOutcome) -> None:
        outcomes[outcome.relative_path] = outcome
        if outcome.status != "unchanged":
            loaded.registered(candidate, outcome.status)

    def load_batch() -> None:
        taken = batch.taken()
        by_path = {candidate.landing_file.relative_path: candidate for candidate in taken}
        for outcome in _load_batch(con, kind, taken):
            settle(by_path[outcome.relative_path], outcome)

    # hashlib releases the GIL: the next files are hashed while DuckDB reads a batch
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashes = hasher.map(_content_hash, [landing_file for landing_file, _ in changed])
        for (landing_file, registered), content_hash in zip(changed, hashes, strict=True):
            candidate = Candidate(landing_file, content_hash, registered)
            if batch.holds_content(content_hash):
                load_batch()  # so that the copy is recognised as one
            if outcome := _not_to_load(con, kind, candidate, loaded):
                settle(candidate, outcome)
                continue
            if kind.in_pieces(landing_file):
                load_batch()  # files load in their order
                settle(candidate, _load_in_pieces(con, kind, candidate))
                continue
            if not batch.takes(candidate):
                load_batch()
            batch.add(candidate)
        load_batch()
    return [outcomes[landing_file.relative_path] for landing_file in files]


def _content_hash(landing_file: LandingFile) -> str | None:
    # a link leaving the landing folder, a named pipe... are refused unread, so have no hash
    if landing_file.outside_landing or landing_file.not_read:
        return None
    return landing_file.content_hash()


def _not_to_load(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, candidate: Candidate,
    loaded: LoadedContents,
) -> FileOutcome | None:
    """The outcome of a file that is not to be read: unchanged, a copy, or refused."""
    landing_file, content_hash = candidate.landing_file, candidate.content_hash
    if landing_file.not_read:
        return _record(con, kind, candidate, landing_file.not_read.status,
                       f"{landing_file.name}: {landing_file.not_read.message}.")
    if candidate.registered and content_hash and candidate.registered.content_hash == content_hash:
        return FileOutcome(landing_file.relative_path, "unchanged")
    if twin := loaded.twin(content_hash, landing_file.relative_path):
        message = f"same content as {twin}, which is already loaded"
        return _record(con, kind, candidate, "duplicate", message)
    try:
        check_landing_file(landing_file)
    except UnreadableFile as error:
        return _record(con, kind, candidate, "failed", failure_message(landing_file, error))
    return None


def _load_batch(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, batch: Sequence[Candidate]
) -> list[FileOutcome]:
    if not batch:
        return []
    try:
        results = kind.read(con, [candidate.landing_file for candidate in batch])
    except (UnreadableFile, duckdb.Error, UnicodeDecodeError) as error:
        return _in_halves(con, kind, batch, error)
    outcomes = [
        _record(con, kind, candidate, "failed", failure_message(candidate.landing_file, result))
        for candidate, result in zip(batch, results, strict=True)
        if isinstance(result, UnreadableFile)
    ]
    readable = [(index, candidate, result)
                for index, (candidate, result) in enumerate(zip(batch, results, strict=True))
                if isinstance(result, RowCounts)]
    if not readable:
        return outcomes
    try:
        with transaction(con):
            file_ids = _replace_registrations(
                con, kind, [(candidate, counts) for _, candidate, counts in readable], "loaded",
                None)
            kind.store(con, [StoredFile(index, candidate.landing_file, file_id)
                             for (index, candidate, _), file_id
                             in zip(readable, file_ids, strict=True)])
    except duckdb.Error as error:
        return outcomes + _in_halves(con, kind, [c for _, c, _ in readable], error)
    return outcomes + [
        FileOutcome(candidate.landing_file.relative_path, "loaded", counts.read, counts.loaded,
                    counts.quarantined)
        for _, candidate, counts in readable
    ]


def _discard_interrupted_loads(con: duckdb.DuckDBPyConnection, kind: SourceKind) -> None:
    """Forget the loads in pieces that never finished (the process was killed): their rows
    go with their entries, and the files, unregistered again, load as new or changed."""
    interrupted = con.execute(
        "SELECT file_id FROM meta.source_files WHERE kind = $kind AND status = 'loading'",
        {"kind": kind.name},
    ).fetchall()
    for (file_id,) in interrupted:
        with transaction(con):
            _discard(con, kind, file_id)


def _discard(con: duckdb.DuckDBPyConnection, kind: SourceKind, file_id: int) -> None:
    _delete_rows(con, kind, file_id)
    con.execute("DELETE FROM meta.source_files WHERE file_id = $id", {"id": file_id})


def _load_in_pieces(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, candidate: Candidate
) -> FileOutcome:
    """A file too big for one statement: it loads whole or not at all."""
    landing_file = candidate.landing_file
    try:
        counts = _load_pieces(con, kind, candidate)
    except (UnreadableFile, duckdb.Error, OSError, EOFError) as error:
        return _record(con, kind, candidate, "failed", failure_message(landing_file, error))
    return FileOutcome(landing_file.relative_path, "loaded", counts.read, counts.loaded,
                       counts.quarantined)


def _load_pieces(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, candidate: Candidate
) -> RowCounts:
    """Each piece is committed on its own, not in one transaction around the file: DuckDB
    scans a table written inside an open transaction (each piece's judged records) on one
    thread, and storing a national month in one file took twice as long (benchmarks/RESULTS.md)."""
    assert kind.load_pieces is not None
    with transaction(con):
        (file_id,) = _register(con, kind, [(candidate, RowCounts(0, 0, 0))], "loading", None)
    try:
        counts = kind.load_pieces(con, candidate.landing_file, file_id)
        with transaction(con):
            if candidate.registered:
                _supersede(con, kind, candidate.registered.file_id)
            con.execute(
                "UPDATE meta.source_files SET status = 'loaded', rows_read = $read, "
                "rows_loaded = $loaded, rows_quarantined = $quarantined WHERE file_id = $id",
                {"read": counts.read, "loaded": counts.loaded,
                 "quarantined": counts.quarantined, "id": file_id},
            )
    except BaseException:
        # when even this fails, the next ingest discards the load (_discard_interrupted_loads)
        with contextlib.suppress(duckdb.Error), transaction(con):
            _discard(con, kind, file_id)
        raise
    return counts


def _in_halves(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, batch: Sequence[Candidate],
    error: UnreadableFile | duckdb.Error | UnicodeDecodeError,
) -> list[FileOutcome]:
    """A batch that failed as a whole: each half again, and so on, so that a bad file fails
    alone and the others load. Halving finds one bad file of 500 in 18 reads, where reading
    each file alone took 500."""
    if len(batch) == 1:
        (candidate,) = batch
        return [_record(con, kind, candidate, "failed",
                        failure_message(candidate.landing_file, error))]
    half = len(batch) // 2
    return _load_batch(con, kind, batch[:half]) + _load_batch(con, kind, batch[half:])


def failure_message(landing_file: LandingFile, error: Exception) -> str:
    if isinstance(error, UnreadableFile):
        return str(error)
    if isinstance(error, UnicodeDecodeError) or "invalid unicode" in str(error).lower():
        return str(not_utf8(landing_file.name))
    if limit := _pipeline_limit(error):
        return (f"{landing_file.name} ({landing_file.size_bytes / 1e9:.1f} GB) could not be "
                f"loaded: {limit}. This is a limit of the pipeline, not a fault of the file.")
    # DuckDB's message may quote the record, personal data included: keep only its kind and
    # the position.
    kind = type(error).__name__
    position = re.search(r"at byte \d+|on line: \d+", str(error), flags=re.IGNORECASE)
    where = f" {position[0].lower().replace(':', '')}" if position else ""
    return f"{landing_file.name} could not be read ({kind}{where}); check or re-export the file."


def _pipeline_limit(error: Exception) -> str | None:
    """What the pipeline ran out of, for an error that says nothing about the file."""
    if isinstance(error, duckdb.OutOfMemoryException):
        return (f"{MEMORY_LIMIT_ENV}={memory_limit_from_env()} was not enough memory to read "
                f"and judge it; raise {MEMORY_LIMIT_ENV}")
    if isinstance(error, duckdb.IOException | OSError) and "no space left" in str(error).lower():
        return ("the disk ran out of space for DuckDB's temporary files (beside the warehouse) "
                "while reading it; free disk space there")
    return None


def _record(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, candidate: Candidate, status: str,
    message: str,
) -> FileOutcome:
    """Register a file that brings no rows; it replaces the path's earlier version, so that
    the warehouse holds what the landing folder holds now."""
    with transaction(con):
        _replace_registrations(con, kind, [(candidate, RowCounts(0, 0, 0))], status, message)
    return FileOutcome(candidate.landing_file.relative_path, status, message=message)


def _replace_registrations(
    con: duckdb.DuckDBPyConnection, kind: SourceKind,
    files: Sequence[tuple[Candidate, RowCounts]], status: str, message: str | None,
) -> list[int]:
    """Inside the caller's transaction: supersede each path's earlier version, register these;
    their file_ids, in order."""
    for candidate, _ in files:
        if candidate.registered:
            _supersede(con, kind, candidate.registered.file_id)
    return _register(con, kind, files, status, message)


def _supersede(con: duckdb.DuckDBPyConnection, kind: SourceKind, file_id: int) -> None:
    _delete_rows(con, kind, file_id)
    con.execute(
        "UPDATE meta.source_files SET status = 'superseded' WHERE file_id = $id", {"id": file_id}
    )


def _delete_rows(con: duckdb.DuckDBPyConnection, kind: SourceKind, file_id: int) -> None:
    for table in kind.row_tables:
        con.execute(f"DELETE FROM {table} WHERE file_id = $id", {"id": file_id})


def _register(
    con: duckdb.DuckDBPyConnection, kind: SourceKind,
    files: Sequence[tuple[Candidate, RowCounts]], status: str, message: str | None,
) -> list[int]:
    """Register the files in one statement (one per file took 19 s for 20 000 small exports);
    their file_ids, in order. The ids first, then the rows: a DuckLake table takes no
    INSERT ... RETURNING."""
    file_ids = [file_id for (file_id,) in con.execute(
        "SELECT file_id FROM new_source_file_ids($n)", {"n": len(files)}).fetchall()]
    landing_files = [candidate.landing_file for candidate, _ in files]
    con.execute(
        """
        INSERT INTO meta.source_files (file_id, relative_path, kind, size_bytes, mtime_ns,
            content_hash, export_date, status, message, rows_read, rows_loaded,
            rows_quarantined)
        SELECT unnest($file_ids), unnest($paths), $kind, unnest($sizes), unnest($mtimes),
            unnest($hashes), unnest($export_dates), $status, $message, unnest($read),
            unnest($loaded), unnest($quarantined)
        """,
        {
            "file_ids": file_ids, "paths": [f.relative_path for f in landing_files],
            "kind": kind.name, "sizes": [f.size_bytes for f in landing_files],
            "mtimes": [f.mtime_ns for f in landing_files],
            "hashes": [candidate.content_hash for candidate, _ in files],
            "export_dates": [f.export_date for f in landing_files],
            "status": status, "message": message,
            "read": [counts.read for _, counts in files],
            "loaded": [counts.loaded for _, counts in files],
            "quarantined": [counts.quarantined for _, counts in files],
        },
    )
    return file_ids


def run_counts(outcomes: list[FileOutcome]) -> dict[str, int]:
    """What one ingest run did, in numbers (no file content: safe for logs and metadata)."""
    return {
        "files_loaded": sum(o.status == "loaded" for o in outcomes),
        "files_failed": sum(o.status == "failed" for o in outcomes),
        "files_duplicate": sum(o.status == "duplicate" for o in outcomes),
        "files_skipped": sum(o.status == "skipped" for o in outcomes),
        "rows_read": sum(o.rows_read for o in outcomes),
        "rows_loaded": sum(o.rows_loaded for o in outcomes),
        "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
    }
