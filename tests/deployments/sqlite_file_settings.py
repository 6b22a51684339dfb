"""Settings for running the crash test on a SQLite *file* test database, which a worker process can share:
`pytest --ds=tests.deployments.sqlite_file_settings tests/deployments/test_crash.py`."""

from __future__ import annotations

from saasadmin.settings import *  # noqa: F403
from saasadmin.settings import DATA_DIR, DATABASES

DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-crash.sqlite3")}
