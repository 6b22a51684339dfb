"""Starting and stopping an emulator: the HTTP server thread, metrics flusher and persister."""

from __future__ import annotations

import fnmatch
import functools
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from emulator.catalogue import DEFAULT_CATALOGUE
from emulator.context import Context
from emulator.httpserver import EmulatorHTTPServer
from emulator.metrics import MetricsSink
from emulator.persist import Persister
from emulator.server import EmulatorApp
from emulator.state import Settings, Store
from emulator.transform import run_transform_job
from emulator.validation import service_model

HOST = "127.0.0.1"


class EmulatorHandle:
    """A running emulator: `url` for boto3's endpoint_url, `stop()` (or a `with` block) to end it."""

    def __init__(self, server: EmulatorHTTPServer, ctx: Context, persister: Persister | None) -> None:
        self.server = server
        self.ctx = ctx
        self.persister = persister
        self.port = server.server_port
        self.url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(target=server.serve_forever, name="emulator-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, finish background work and save the state."""
        self.server.shutdown()
        self._thread.join()
        self.server.server_close()
        self.server.close_connections()
        self.ctx.store.shutdown()
        self.ctx.metrics.stop()
        if self.persister is not None:
            self.persister.stop()

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _job_run(store: Store, job: dict[str, Any], stop: threading.Event) -> tuple[str, str | None]:
    # The settings are read when each job starts, so a test can pace the jobs of a running emulator.
    settings = store.settings
    paced = fnmatch.fnmatchcase(str(job.get("TransformJobName", "")), settings.transform_paced_jobs)
    pace = settings.transform_seconds_per_object if paced else 0.0
    return run_transform_job(job, stop, limits=settings.archive_limits, seconds_per_object=pace)


def start(
    port: int = 0,
    data_dir: str | Path | None = None,
    delays: float = 0.0,
    catalogue: str | Path | None = None,
    verbose: bool = False,
    **settings: Any,
) -> EmulatorHandle:
    """Serve an emulator on 127.0.0.1:`port` (0 picks a free port) in a background thread.

    `delays` is how long Creating/Updating/Deleting and transform jobs take; `data_dir`, when given,
    holds the state across restarts; other keyword arguments set `Settings` fields.
    """
    service_model()  # load botocore's SageMaker model now, not on the first request
    store = Store(Settings(delay=delays, catalogue_path=str(catalogue or DEFAULT_CATALOGUE), **settings))
    store.job_runner = functools.partial(_job_run, store)
    persister = None
    metrics_log = None
    if data_dir is not None:
        root = Path(data_dir)
        root.mkdir(parents=True, exist_ok=True)
        metrics_log = root / "metrics.jsonl"
        persister = Persister(store, root)
        persister.restore()
    metrics = MetricsSink(metrics_log)
    metrics.replay()
    metrics.start()
    if persister is not None:
        persister.start()
    ctx = Context(store, metrics)
    server = EmulatorHTTPServer(HOST, port, EmulatorApp(ctx), verbose=verbose)
    return EmulatorHandle(server, ctx, persister)
