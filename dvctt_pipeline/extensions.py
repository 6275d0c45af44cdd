"""DuckDB's ducklake and postgres extensions, loaded from their Python packages.

DuckDB normally downloads extensions on first use; a warehouse server often cannot, and the
tests run offline. The signed extension files are published as Python packages
(`duckdb-extension-ducklake`, `duckdb-extension-postgres`) built for one DuckDB version each,
which is why pyproject.toml pins duckdb to the version they are built for.

The postgres extension's entry point is named after its old name, `postgres_scanner`, and
DuckDB derives the entry point from the file name: it loads only from a copy named
`postgres_scanner.duckdb_extension`, kept in a cache folder.
"""

from __future__ import annotations

import os
import shutil
import uuid
from importlib import resources
from pathlib import Path

import duckdb

# package -> the file name DuckDB must load it under
EXTENSION_PACKAGES = {
    "duckdb_extension_postgres": "postgres_scanner.duckdb_extension",
    "duckdb_extension_ducklake": "ducklake.duckdb_extension",
}
CACHE_ENV = "DVCTT_EXTENSION_CACHE"


class ExtensionUnavailable(RuntimeError):
    """An extension package missing, or built for another DuckDB than the one installed."""


def _cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dvctt-pipeline"
    return Path(os.environ.get(CACHE_ENV, default)) / f"duckdb-v{duckdb.__version__}"


def packaged_extension(package: str) -> Path:
    """The extension file a package ships for the installed DuckDB."""
    folder = f"v{duckdb.__version__}"
    try:
        extensions = resources.files(package) / "extensions"
    except ModuleNotFoundError:
        raise ExtensionUnavailable(
            f"The Python package {package.replace('_', '-')} is not installed; the DuckLake "
            "warehouse needs it (`make install` installs it)."
        ) from None
    files = list((extensions / folder).iterdir()) if (extensions / folder).is_dir() else []
    if len(files) != 1:
        built_for = sorted(entry.name for entry in extensions.iterdir())
        raise ExtensionUnavailable(
            f"{package.replace('_', '-')} has no extension for DuckDB {duckdb.__version__} "
            f"(it has {', '.join(built_for) or 'none'}); install the duckdb version pinned in "
            "constraints.txt."
        )
    return Path(str(files[0]))


def _loadable_copy(source: Path, name: str) -> Path:
    """The file under the name DuckDB needs, copied once into the cache (atomically: runs
    starting together may copy it at the same time)."""
    target = _cache_dir() / name
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{name}.{uuid.uuid4().hex}")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target


def extension_files() -> list[Path]:
    """The files to LOAD, postgres first (DuckLake's catalog needs it)."""
    paths = []
    for package, name in EXTENSION_PACKAGES.items():
        source = packaged_extension(package)
        paths.append(source if source.name == name else _loadable_copy(source, name))
    return paths


def load_lake_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD the postgres and ducklake extensions into the connection, with no download."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for path in extension_files():
        con.execute(f"LOAD '{path.as_posix()}'")
