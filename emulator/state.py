"""The control plane's resources and their time-driven state machine, shared by all request threads."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from emulator.catalogue import DEFAULT_CATALOGUE, InstanceCatalogue
from emulator.errors import ACCOUNT_ID
from emulator.fleet import Fleet, ModelCache, build_fleet
from emulator.models import ArchiveLimits

Key = tuple[str, str]  # (region, lower-cased name): SageMaker names are unique regardless of case
KINDS = ("model", "endpoint-config", "endpoint", "transform-job")
ACCELERATED_PREFIXES = ("ml.g", "ml.p", "ml.inf", "ml.trn")


@dataclass
class Settings:
    """Knobs of an emulator instance; every delay is in seconds."""

    delay: float = 0.0
    catalogue_path: str = str(DEFAULT_CATALOGUE)
    mme_budget_bytes: int = 256 * 1024 * 1024
    serverless_idle_seconds: float = 300.0
    cold_start_seconds: float = 0.0
    max_endpoints: int = 100
    instances_per_type: int = 20
    invocation_timeout_seconds: float = 60.0
    # How long a call waits for a multi-model cold load or a serverless cold start before it answers
    # ModelNotReadyException (the load carries on). None: wait it out, as AWS does up to its 60 s limit.
    model_load_budget_seconds: float | None = None
    # Endpoints on accelerated instances (GPU, Inferentia) take several times longer to create on AWS.
    accelerated_delay_factor: float = 1.0
    # What a model.tar.gz may unpack to, and hold: past either, the endpoint or job fails with the reason.
    archive_max_unpacked_bytes: int = ArchiveLimits.max_unpacked_bytes
    archive_max_members: int = ArchiveLimits.max_members
    # How long a transform job works on each input object (0: at once), so jobs can be watched and stopped.
    transform_seconds_per_object: float = 0.0
    # Which jobs that pace applies to: a shell pattern on the job's name ("*": every job). `make run` paces
    # only the demo's last run, so that it stays in progress for minutes while the history runs at once.
    transform_paced_jobs: str = "*"
    catalogue: InstanceCatalogue = field(init=False)

    def __post_init__(self) -> None:
        self.catalogue = InstanceCatalogue(self.catalogue_path)

    @property
    def archive_limits(self) -> ArchiveLimits:
        return ArchiveLimits(self.archive_max_unpacked_bytes, self.archive_max_members)

    def endpoint_delay(self, spec: dict[str, Any]) -> float:
        """How long an endpoint transition to `spec` takes: longer when a variant is accelerated."""
        types = [str(variant.get("InstanceType", "")) for variant in spec["variants"]]
        accelerated = any(name.startswith(ACCELERATED_PREFIXES) for name in types)
        return self.delay * (self.accelerated_delay_factor if accelerated else 1.0)


def arn(region: str, kind: str, name: str) -> str:
    """A SageMaker ARN, with the name lower-cased as SageMaker writes it."""
    return f"arn:aws:sagemaker:{region}:{ACCOUNT_ID}:{kind}/{name.lower()}"


def copy_given(record: dict[str, Any], params: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Copy into the record the optional request fields that were given (deep: requests are not shared)."""
    for name in fields:
        if params.get(name) is not None:
            record[name] = copy.deepcopy(params[name])


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record without its private (underscore) fields."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


class Store:
    """Models, endpoint configs, endpoints, transform jobs and tags, guarded by one lock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self.models: dict[Key, dict[str, Any]] = {}
        self.configs: dict[Key, dict[str, Any]] = {}
        self.endpoints: dict[Key, dict[str, Any]] = {}
        self.jobs: dict[Key, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.fleets: dict[Key, Fleet] = {}
        self.cache = ModelCache(settings.mme_budget_bytes, settings.archive_limits)
        self._builds: dict[Key, Future[Fleet]] = {}
        self._runs: dict[Key, Future[tuple[str, str | None]]] = {}
        self._stops: dict[Key, threading.Event] = {}
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="emulator-work")
        self.changed = threading.Event()
        # Set by the transform module: runs a job and returns (final status, failure reason).
        self.job_runner: Callable[[dict[str, Any], threading.Event], tuple[str, str | None]] | None = None

    def touch(self) -> None:
        """Mark the state as needing a save."""
        self.changed.set()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run background work (loads, async invocations, jobs) on the shared pool."""
        return self._pool.submit(fn, *args)

    def shutdown(self) -> None:
        """Stop background work: running jobs are asked to stop."""
        for event in self._stops.values():
            event.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # Endpoints -----------------------------------------------------------------------------------

    def start_build(self, key: Key, spec: dict[str, Any]) -> None:
        """Load an endpoint's models in the background; the state machine waits for the outcome."""
        self._builds[key] = self.submit(build_fleet, key[1], spec, self.settings.archive_limits)

    def advance_endpoint(self, key: Key, now: float | None = None) -> dict[str, Any] | None:
        """Move the endpoint along Creating/Updating/Deleting once its delay is over; None when gone."""
        record = self.endpoints.get(key)
        if record is None:
            return None
        now = time.time() if now is None else now
        status = record["EndpointStatus"]
        if status == "Deleting" and now >= record["_ready_at"]:
            self._forget_endpoint(key)
            return None
        if status not in ("Creating", "Updating"):
            return record
        build = self._builds.get(key)
        if build is None:  # restored from disk mid-transition: load again
            self.start_build(key, record["_pending_spec"] if status == "Updating" else record["_spec"])
            return record
        if now < record["_ready_at"] or not build.done():
            return record
        del self._builds[key]
        failure = build.exception()
        # The transition ends when its delay does (loading normally finishes well within it).
        record["LastModifiedTime"] = max(record["_ready_at"], record["LastModifiedTime"])
        if failure is None:
            self.fleets[key] = build.result()
            if status == "Updating":
                record["EndpointConfigName"] = record.pop("_pending_config")
                record["_spec"] = record.pop("_pending_spec")
            record.pop("FailureReason", None)
            record["EndpointStatus"] = "InService"
        elif status == "Updating":
            # A failed update rolls back: the old fleet keeps serving and the reason is reported.
            record.pop("_pending_config", None)
            record.pop("_pending_spec", None)
            record["EndpointStatus"] = "InService"
            record["FailureReason"] = str(failure)
        else:
            record["EndpointStatus"] = "Failed"
            record["FailureReason"] = str(failure)
        self.touch()
        return record

    def _forget_endpoint(self, key: Key) -> None:
        record = self.endpoints.pop(key)
        self.fleets.pop(key, None)
        self._builds.pop(key, None)
        self.tags.pop(record["EndpointArn"], None)
        self.touch()

    def serving_fleet(self, region: str, name: str) -> tuple[dict[str, Any], Fleet] | None:
        """The endpoint and fleet answering invocations, when the endpoint is in service (or updating)."""
        key = (region, name.lower())
        with self.lock:
            record = self.advance_endpoint(key)
            if record is None or record["EndpointStatus"] not in ("InService", "Updating"):
                return None
            fleet = self.fleets.get(key)
        if fleet is None:  # restored from disk and not warmed yet: load now, outside the lock
            fleet = self._warm(key, record["_spec"])
        return record, fleet

    def _warm(self, key: Key, spec: dict[str, Any]) -> Fleet:
        """Build the fleet of an endpoint already in service (after a restart) and keep it."""
        fleet = build_fleet(key[1], spec, self.settings.archive_limits)
        with self.lock:
            return self.fleets.setdefault(key, fleet)

    # Transform jobs ------------------------------------------------------------------------------

    def start_job(self, key: Key) -> None:
        """Run a transform job in the background."""
        if self.job_runner is None:
            raise RuntimeError("the transform runner is not installed")
        stop = self._stops.setdefault(key, threading.Event())
        self._runs[key] = self.submit(self.job_runner, dict(self.jobs[key]), stop)

    def request_stop(self, key: Key) -> None:
        """Ask a running job to stop between records."""
        self._stops.setdefault(key, threading.Event()).set()

    def advance_job(self, key: Key, now: float | None = None) -> dict[str, Any] | None:
        """Finish a job once its work is done and its delay is over."""
        record = self.jobs.get(key)
        if record is None or record["TransformJobStatus"] not in ("InProgress", "Stopping"):
            return record
        now = time.time() if now is None else now
        run = self._runs.get(key)
        if run is None:  # restored from disk mid-run: run again (or settle a pending stop)
            if record["TransformJobStatus"] == "Stopping":
                self._settle_job(record, "Stopped", None, now)
            else:
                self.start_job(key)
            return record
        if now < record["_ready_at"] or not run.done():
            return record
        del self._runs[key]
        self._stops.pop(key, None)
        failure = run.exception()
        status, reason = ("Failed", f"InternalServerError: {failure}") if failure else run.result()
        if record["TransformJobStatus"] == "Stopping":
            status, reason = "Stopped", None
        self._settle_job(record, status, reason, max(record["_ready_at"], record["LastModifiedTime"]))
        return record

    def _settle_job(self, record: dict[str, Any], status: str, reason: str | None, now: float) -> None:
        record["TransformJobStatus"] = status
        record["TransformEndTime"] = now
        record["LastModifiedTime"] = now
        if reason:
            record["FailureReason"] = reason
        self.touch()

    # Persistence ---------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy of every resource (keys flattened to "region/name")."""
        with self.lock:
            return {
                "models": {f"{r}/{n}": v for (r, n), v in self.models.items()},
                "configs": {f"{r}/{n}": v for (r, n), v in self.configs.items()},
                "endpoints": {f"{r}/{n}": v for (r, n), v in self.endpoints.items()},
                "jobs": {f"{r}/{n}": v for (r, n), v in self.jobs.items()},
                "tags": self.tags,
            }

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot; endpoints and jobs mid-transition resume on their next access."""

        def keyed(items: dict[str, Any]) -> dict[Key, dict[str, Any]]:
            return {tuple(k.split("/", 1)): v for k, v in items.items()}  # type: ignore[misc]

        with self.lock:
            self.models = keyed(data.get("models", {}))
            self.configs = keyed(data.get("configs", {}))
            self.endpoints = keyed(data.get("endpoints", {}))
            self.jobs = keyed(data.get("jobs", {}))
            self.tags = data.get("tags", {})
            for key, record in self.endpoints.items():
                if record["EndpointStatus"] == "InService":
                    self.submit(self._warm, key, record["_spec"])
                elif record["EndpointStatus"] == "Creating":
                    self.start_build(key, record["_spec"])
                elif record["EndpointStatus"] == "Updating":
                    self.start_build(key, record["_pending_spec"])
