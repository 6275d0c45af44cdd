"""A throw-away PostgreSQL server for the tests that need one (DuckLake's catalog, the Dagster
instance's storage): the system's server binaries, initdb and pg_ctl, on a Unix socket in a
temporary folder, so nothing listens on the network and nothing outlives the test session.

Debian's `postgresql` package provides the binaries (`.ci/run` installs it in CI); its own
cluster service, if any, is left alone: this server has its own folder and socket.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "postgres"  # PostgreSQL refuses to run as root
PORT = 5432  # names the socket file in our own folder; no TCP port is opened


def server_binaries() -> Path | None:
    """The bin folder of the newest PostgreSQL installed the Debian way, or $PG_BIN."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]))
    return Path(found[-1]).parent if found else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


@dataclass
class PostgresServer:
    bin: Path
    folder: Path

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(_as_server_user([str(self.bin / tool), *args]), check=True,
                       capture_output=True, text=True)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its libpq connection string."""
        self.run("createdb", "-h", str(self.socket_dir), "-p", str(PORT), "-U", SERVER_USER,
                 name)
        return self.dsn(name)

    def dsn(self, database: str) -> str:
        return f"dbname={database} host={self.socket_dir} port={PORT} user={SERVER_USER}"

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, SERVER_USER)
            shutil.chown(self.socket_dir, SERVER_USER)
        self.run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", SERVER_USER,
                 "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-k {self.socket_dir} -p {PORT} -c listen_addresses='' -c fsync=off "
                   "-c max_connections=200")
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
                 "-o", options, "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("No PostgreSQL server binaries (initdb, pg_ctl under "
                    "/usr/lib/postgresql/*/bin, or $PG_BIN): install Debian's `postgresql` "
                    "package (CI's .ci/run does) to run the DuckLake and PostgreSQL tests.")
    # not under pytest's tmp_path: its folders are private to root, and the server runs as
    # the postgres user
    server = PostgresServer(binaries, Path(tempfile.mkdtemp(prefix="dvctt-pg-")))
    try:
        server.start()
        yield server
    finally:
        if (server.folder / "data" / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
