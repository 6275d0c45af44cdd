"""The real Dagster webserver and daemon in their own processes, on a persistent DAGSTER_HOME,
for tests that launch work the way an operator does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVER_START_SECONDS = 180


@dataclass(frozen=True)
class Instance:
    home: Path
    url: str
    serving: Path
    logs: list[Path]

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def log_tails(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """Stop a server and the code server it started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def wait_until_loaded(instance: Instance, servers: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        assert all(server.poll() is None for server in servers), instance.log_tails()
        try:
            nodes = instance.graphql("{ assetNodes { id } }")["assetNodes"]
            if nodes:
                return
        except (urllib.error.URLError, ConnectionError, AssertionError):
            pass
        time.sleep(1)
    pytest.fail(f"the webserver did not load the code location\n{instance.log_tails()}")




def dagster_home(root: Path, yaml_text: str | None = None) -> Path:
    """A DAGSTER_HOME with the committed dagster.yaml (or the given one), its storage created
    once, before two servers race to create it."""
    home = root / "dagster_home"
    home.mkdir()
    committed = (REPO / "dagster_home" / "dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(yaml_text or committed)
    dg.DagsterInstance.from_config(str(home)).dispose()
    return home


@contextmanager
def webserver_and_daemon(
    home: Path, serving: Path, env: dict[str, str], logs_dir: Path, daemon: bool = True
) -> Iterator[Instance]:
    """`make ui` on the given home and environment, until the code location is loaded
    (without the daemon, nothing runs by itself: the UI shows what is there)."""
    env = {**os.environ, **env, "DAGSTER_HOME": str(home), "DVCTT_SERVING": str(serving)}
    port = free_port()
    workspace = str(REPO / "workspace.yaml")
    logs = [logs_dir / "webserver.log", logs_dir / "daemon.log"][:2 if daemon else 1]
    servers = [
        start([str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
               "-w", workspace], env, logs[0]),
    ]
    if daemon:
        servers.append(start([str(BIN / "dagster-daemon"), "run", "-w", workspace], env, logs[1]))
    running = Instance(home, f"http://127.0.0.1:{port}", serving, logs)
    try:
        wait_until_loaded(running, servers)
        yield running
    finally:
        for server in servers:
            stop(server)
