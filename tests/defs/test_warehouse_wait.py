"""How long a run's step waits for a warehouse another process holds: DVCTT_WAREHOUSE_WAIT_SECONDS
(a held warehouse, end to end: tests/operations/test_warehouse_held.py)."""

from __future__ import annotations

import pytest

from dvctt_pipeline.defs.resources import warehouse_from_env
from dvctt_pipeline.settings import DEFAULT_LOCK_WAIT_SECONDS, LOCK_WAIT_ENV


def test_the_wait_is_100_s_unless_set(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(LOCK_WAIT_ENV, raising=False)
    assert warehouse_from_env().lock_wait_seconds == DEFAULT_LOCK_WAIT_SECONDS == 100

    monkeypatch.setenv(LOCK_WAIT_ENV, "2.5")
    assert warehouse_from_env().lock_wait_seconds == 2.5


def test_a_wait_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(LOCK_WAIT_ENV, "soon")
    with pytest.raises(ValueError, match="DVCTT_WAREHOUSE_WAIT_SECONDS='soon' must be a number"):
        warehouse_from_env()
