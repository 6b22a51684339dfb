"""The instance types each region offers per use, read from the pricing catalogue the product prices with.

Which types a request may name at all is botocore's enum (checked in `emulator.validation`); this adds
what the enum cannot say: a type the region does not offer, or not for this use (a type with no
transform price in the region runs no transform job there).
"""

from __future__ import annotations

import json
from pathlib import Path

from emulator.errors import validation

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue" / "sagemaker_prices.json"
USES = ("realtime", "async", "transform")


class InstanceCatalogue:
    """Valid instance types per region and use; a region the file lacks accepts the union of all regions."""

    def __init__(self, path: Path | str = DEFAULT_CATALOGUE) -> None:
        data = json.loads(Path(path).read_text())
        self.by_region: dict[tuple[str, str], frozenset[str]] = {
            (region, use): frozenset(
                name for name, entry in body.get("instances", {}).items() if f"{use}_per_hour" in entry
            )
            for region, body in data["regions"].items()
            for use in USES
        }
        self.all_types = {
            use: frozenset().union(*(types for (_, u), types in self.by_region.items() if u == use))
            for use in USES
        }

    def types_for(self, region: str, use: str = "realtime") -> frozenset[str]:
        """The instance types valid in `region` for `use` (realtime, async or transform)."""
        return self.by_region.get((region, use), self.all_types[use])

    def is_valid(self, region: str, instance_type: str, use: str = "realtime") -> bool:
        """Whether `instance_type` may be used in `region` for `use`."""
        return instance_type in self.types_for(region, use)

    def require(self, region: str, instance_type: str, use: str) -> None:
        """Refuse a type the region does not offer for `use`, as CreateEndpointConfig words it on AWS
        (aws/amazon-sagemaker-examples#4128); CreateTransformJob's wording is not published: the same."""
        if not self.is_valid(region, instance_type, use):
            raise validation(
                f"Instance type {instance_type} is not supported for the chosen region. "
                "Please choose some other instance type."
            )
