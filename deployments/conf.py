"""Deployment knobs: Django settings win, then environment variables (worker subprocesses), then defaults."""

from __future__ import annotations

from django.conf import settings

from saasadmin.env import envfloat, envint


def _float(name: str, default: float) -> float:
    return float(getattr(settings, name, envfloat(name, default)))


def _int(name: str, default: int) -> int:
    return int(getattr(settings, name, envint(name, default)))


def poll_base_seconds() -> float:
    """First wait between status polls; each further poll waits twice as long. 0 polls at once (tests)."""
    return _float("DEPLOYMENT_POLL_BASE_SECONDS", 2.0)


def poll_max_seconds() -> float:
    return _float("DEPLOYMENT_POLL_MAX_SECONDS", 60.0)


def max_polls() -> int:
    """Polls of one transition before the deployment is marked failed (stuck)."""
    return _int("DEPLOYMENT_MAX_POLLS", 120)


def retry_for_seconds() -> float:
    """How long a deployment keeps retrying through transient AWS errors (connection failures, 5xx,
    throttling) before it is marked failed; reconcile then retries it once AWS answers again."""
    return _float("DEPLOYMENT_RETRY_FOR_SECONDS", 3600.0)


def retry_max_delay_seconds() -> float:
    """The ceiling of the backoff between two attempts through transient errors."""
    return _float("DEPLOYMENT_RETRY_MAX_DELAY_SECONDS", 120.0)


def stale_seconds() -> float:
    """The longest a transition waits for its next poll before reconcile resumes it (its job was lost)."""
    return _float("DEPLOYMENT_STALE_SECONDS", 600.0)


def overdue_factor() -> float:
    """A poll this many times later than its delay (plus the grace below) was lost: reconcile resumes it."""
    return _float("DEPLOYMENT_OVERDUE_FACTOR", 3.0)


def overdue_grace_seconds() -> float:
    """Slack on top of the overdue factor, for a queue that is busy or a clock that is slightly off."""
    return _float("DEPLOYMENT_OVERDUE_GRACE_SECONDS", 30.0)


def pending_grace_seconds() -> float:
    """A row still pending after this long had its enqueue lost (Redis down): reconcile enqueues it."""
    return _float("DEPLOYMENT_PENDING_GRACE_SECONDS", 30.0)


def drift_max_missing() -> int:
    """At most this many endpoints missing from one listing are repaired without a person."""
    return _int("DEPLOYMENT_DRIFT_MAX_MISSING", 20)


def drift_max_share() -> float:
    """… and at most this share of the in-service fleet (the smaller bound wins, never below one)."""
    return _float("DEPLOYMENT_DRIFT_MAX_SHARE", 0.10)


def max_upload_bytes() -> int:
    """The largest model.tar.gz accepted (compressed); the web process refuses a larger request unread."""
    return _int("MODEL_PACKAGE_MAX_BYTES", 512 * 1024 * 1024)


def dataset_max_bytes() -> int:
    """The largest CSV a tenant may upload into its input area (DATASET_MAX_BYTES)."""
    return _int("DATASET_MAX_BYTES", 256 * 1024 * 1024)


def max_unpacked_bytes() -> int:
    """What a model.tar.gz may unpack to: past it, the archive is refused (a gzip bomb goes no further)."""
    return _int("MODEL_ARCHIVE_MAX_UNPACKED_BYTES", 1024 * 1024 * 1024)


def max_archive_members() -> int:
    """How many files and folders a model.tar.gz may hold."""
    return _int("MODEL_ARCHIVE_MAX_MEMBERS", 1000)


def poll_delay(polls: int) -> float:
    """Exponential backoff for the `polls`-th poll, capped."""
    base = poll_base_seconds()
    return 0.0 if base <= 0 else min(base * 2 ** min(polls, 16), poll_max_seconds())


def retry_delay(retries: int) -> float:
    """Exponential backoff before the `retries`-th attempt through transient errors, capped."""
    base = poll_base_seconds()
    return 0.0 if base <= 0 else min(base * 2 ** min(retries, 16), retry_max_delay_seconds())
