"""The CloudWatch metrics SageMaker emits per invocation, aggregated and written off the request path."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow

from emulator.errors import ACCOUNT_ID

NAMESPACE = "AWS/SageMaker"
UNITS = {
    "Invocations": "None",
    "Invocation4XXErrors": "None",
    "Invocation5XXErrors": "None",
    "InvocationsPerInstance": "None",
    "ModelLatency": "Microseconds",
    "OverheadLatency": "Microseconds",
    "ModelSetupTime": "Microseconds",
    "ModelCacheHit": "None",
    "ModelLoadingWaitTime": "Microseconds",
    "ModelLoadingTime": "Microseconds",
    "LoadedModelCount": "None",
}
_Series = tuple[str, str, str, str]  # region, endpoint, variant, metric


class MetricsSink:
    """Collects datapoints in memory and flushes them as statistic sets to moto's CloudWatch every second."""

    def __init__(self, log_path: Path | None = None, interval: float = 1.0) -> None:
        self.log_path = log_path
        self.interval = interval
        self._pending: dict[_Series, list[float]] = defaultdict(
            lambda: [0.0, 0.0, float("inf"), float("-inf")]
        )
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, region: str, endpoint: str, variant: str, values: dict[str, float]) -> None:
        """Add one invocation's datapoints (cheap: a dict update under a lock)."""
        with self._lock:
            for metric, value in values.items():
                stats = self._pending[(region, endpoint, variant, metric)]
                stats[0] += 1
                stats[1] += value
                stats[2] = min(stats[2], value)
                stats[3] = max(stats[3], value)

    def flush(self) -> None:
        """Write what has been recorded to CloudWatch (and the replay log, when persisting)."""
        with self._lock:
            pending, self._pending = (
                self._pending,
                defaultdict(lambda: [0.0, 0.0, float("inf"), float("-inf")]),
            )
        if not pending:
            return
        now = utcnow()
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (region, endpoint, variant, metric), (count, total, low, high) in pending.items():
            by_region[region].append(
                {
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": endpoint},
                        {"Name": "VariantName", "Value": variant},
                    ],
                    "StatisticValues": {"SampleCount": count, "Sum": total, "Minimum": low, "Maximum": high},
                    "Unit": UNITS.get(metric, "None"),
                }
            )
        for region, data in by_region.items():
            _put(region, data, now)
        if self.log_path is not None:
            with self.log_path.open("a") as log:
                for region, data in by_region.items():
                    log.write(json.dumps({"region": region, "at": now.isoformat(), "data": data}) + "\n")

    def replay(self) -> None:
        """Put back the datapoints of earlier runs, so usage history survives a restart."""
        if self.log_path is None or not self.log_path.exists():
            return
        for line in self.log_path.read_text().splitlines():
            try:
                entry = json.loads(line)
                _put(entry["region"], entry["data"], datetime.fromisoformat(entry["at"]))
            except (ValueError, KeyError):
                continue  # a line cut short by a crash

    def start(self) -> None:
        """Flush in a background thread until stop()."""
        self._thread = threading.Thread(target=self._loop, name="emulator-metrics", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            self.flush()

    def stop(self) -> None:
        """Stop the thread and flush what is left."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()


def _put(region: str, data: list[dict[str, Any]], at: datetime) -> None:
    # PutMetricData, straight into moto's in-process backend.
    backend = cloudwatch_backends[ACCOUNT_ID][region]
    for start in range(0, len(data), 500):
        backend.put_metric_data(NAMESPACE, [{**d, "Timestamp": at} for d in data[start : start + 500]])
