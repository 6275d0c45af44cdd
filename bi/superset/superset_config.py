"""Superset's configuration for the local analyst setup (setup.py points SUPERSET_CONFIG_PATH
here). Its metadata database and secret key live in $DVCTT_SUPERSET_HOME (default
data/superset), never in the repository."""

import os
import secrets
from pathlib import Path

_HOME = Path(os.environ.get("DVCTT_SUPERSET_HOME", "data/superset")).resolve()
_HOME.mkdir(parents=True, exist_ok=True)
_KEY = _HOME / "secret_key"
if not _KEY.exists():
    _KEY.write_text(secrets.token_urlsafe(42))

SECRET_KEY = _KEY.read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}"
# a local, single-user setup: no rate limiting store, no examples, no telemetry
RATELIMIT_STORAGE_URI = "memory://"
SUPERSET_LOAD_EXAMPLES = False
WTF_CSRF_ENABLED = True
TALISMAN_ENABLED = False
