"""What request handlers share: the resource store and the metrics sink."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.metrics import MetricsSink
from emulator.state import Settings, Store


@dataclass
class Context:
    """One emulator instance's state."""

    store: Store
    metrics: MetricsSink

    @property
    def settings(self) -> Settings:
        """The instance's settings."""
        return self.store.settings
