"""The instance types SageMaker accepts, read from the pricing catalogue the product prices with."""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue" / "sagemaker_prices.json"


class InstanceCatalogue:
    """Valid instance types per region; a region the file lacks accepts the union of all regions."""

    def __init__(self, path: Path | str = DEFAULT_CATALOGUE) -> None:
        data = json.loads(Path(path).read_text())
        self.by_region: dict[str, frozenset[str]] = {
            region: frozenset(body.get("instances", {})) for region, body in data["regions"].items()
        }
        self.all_types = frozenset().union(*self.by_region.values())

    def types_for(self, region: str) -> frozenset[str]:
        """The instance types valid in `region`."""
        return self.by_region.get(region, self.all_types)

    def is_valid(self, region: str, instance_type: str) -> bool:
        """Whether `instance_type` may be used in `region`."""
        return instance_type in self.types_for(region)
