"""The bundled catalogue (`catalogue/sagemaker_prices.json`) and the instance types it offers for each use.

An instance type is offered for a use when SageMaker accepts it there — it is in the enum of the request
shape that carries it (botocore's service model, `deployments.aws.service_model`) — and the catalogue
prices it for that use in the region. Forms, rules, the advisor and pricing all ask `offered`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from deployments.aws import service_model

if TYPE_CHECKING:
    from deployments.models import CatalogueVersion

CATALOGUE_PATH = Path(settings.BASE_DIR) / "catalogue" / "sagemaker_prices.json"
# Accelerated-computing families: NVIDIA GPUs (g, p), and AWS Inferentia, Trainium and Gaudi (inf, trn,
# dl), whose accelerators the catalogue's `gpus` does not count.
ACCELERATED_PREFIXES = ("ml.g", "ml.p", "ml.inf", "ml.trn", "ml.dl")


@dataclass(frozen=True)
class Use:
    """Where an instance runs: which request carries its type, which price applies, any further limit."""

    name: str
    label: str
    price: str  # the catalogue's `<price>_per_hour`
    aws_types: Callable[[], frozenset[str]]
    cpu_only: bool = False


USES: dict[str, Use] = {
    use.name: use
    for use in (
        Use("realtime", "real-time endpoints", "realtime", service_model.variant_instance_types),
        Use("async", "asynchronous endpoints", "async", service_model.variant_instance_types),
        Use("transform", "batch transform", "transform", service_model.transform_instance_types),
        # The XGBoost and scikit-learn containers serve multi-model endpoints on CPU instances only; on
        # GPUs multi-model needs NVIDIA Triton (docs: "Supported algorithms, frameworks, and instances
        # for multi-model endpoints"). Billed as real-time hosting.
        Use("multi_model", "multi-model endpoints", "realtime", service_model.variant_instance_types, True),
    )
}


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def catalogue() -> dict[str, Any]:
    """The catalogue, re-read when the file changes (refresh_prices rewrites it)."""
    return _load(str(CATALOGUE_PATH), CATALOGUE_PATH.stat().st_mtime)


def region_prices(region: str | None = None) -> dict[str, Any]:
    """The prices of `region` (default: settings.AWS_REGION)."""
    return catalogue()["regions"][region or settings.AWS_REGION]


def hours_per_month() -> int:
    return int(catalogue()["hours_per_month"])


def is_accelerated(instance_type: str, entry: dict[str, Any] | None = None) -> bool:
    """Whether the instance has GPUs or other accelerators (anything but plain CPUs)."""
    return bool((entry or {}).get("gpus")) or instance_type.startswith(ACCELERATED_PREFIXES)


def offered(use: str, region: str | None = None) -> frozenset[str]:
    """The instance types offered for `use` in `region`: AWS's enum ∩ the types priced for it."""
    region = region or settings.AWS_REGION
    return _offered(use, region, str(CATALOGUE_PATH), CATALOGUE_PATH.stat().st_mtime)


@lru_cache(maxsize=32)
def _offered(use_name: str, region: str, path: str, mtime: float) -> frozenset[str]:
    use = USES[use_name]
    instances = _load(path, mtime)["regions"][region]["instances"]
    return frozenset(
        name
        for name, entry in instances.items()
        if f"{use.price}_per_hour" in entry
        and name in use.aws_types()
        and not (use.cpu_only and is_accelerated(name, entry))
    )


def _nearest(use: str, instance_type: str, region: str | None, count: int = 3) -> list[str]:
    """The offered types closest in vCPUs and memory to `instance_type` (cheapest first when unknown)."""
    instances = region_prices(region)["instances"]
    wanted = instances.get(instance_type, {})
    price = f"{USES[use].price}_per_hour"

    def distance(name: str) -> tuple[float, float, float, str]:
        entry = instances[name]
        return (
            abs(entry["vcpu"] - wanted.get("vcpu", entry["vcpu"])),
            abs(entry["memory_gib"] - wanted.get("memory_gib", entry["memory_gib"])),
            entry[price],
            name,
        )

    return sorted(offered(use, region), key=distance)[:count]


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def instance_problem(use: str, instance_type: str, region: str | None = None) -> str | None:
    """Why `instance_type` cannot serve `use` in the region, naming the closest types that can."""
    if instance_type in offered(use, region):
        return None
    region = region or settings.AWS_REGION
    instead = _either(_nearest(use, instance_type, region))
    entry = region_prices(region)["instances"].get(instance_type)
    if entry is None:
        return f"{instance_type} is not offered in this region ({region}): choose {instead}."
    if USES[use].cpu_only and is_accelerated(instance_type, entry):
        what = "a GPU instance" if entry.get("gpus") else "an accelerated (Inferentia or Trainium) instance"
        return (
            f"{instance_type} is {what}, and a multi-model endpoint with the XGBoost or scikit-learn "
            "container runs on CPU instances only (multi-model on GPU needs NVIDIA Triton Inference "
            f"Server): choose {instead}, or give a GPU model its own real-time endpoint."
        )
    return f"{instance_type} is not offered for {USES[use].label} in {region}: choose {instead}."


def catalogue_version_record(valid_from: date | None = None) -> CatalogueVersion:
    """Keep the catalogue file as it is now as a dated version (the existing one when nothing changed).

    A new version is valid from `valid_from` (default: the file's `retrieved` date, or today when that is
    older than the latest version), so a refresh adds a version and never rewrites what the past was
    priced at.
    """
    from deployments.models import CatalogueVersion

    text = CATALOGUE_PATH.read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    found = CatalogueVersion.objects.filter(sha256=digest).first()
    if found:
        return found
    data = json.loads(text)
    retrieved = date.fromisoformat(str(data.get("retrieved") or timezone.now().date().isoformat()))
    latest = CatalogueVersion.objects.order_by("-valid_from", "-id").first()
    start = valid_from or retrieved
    if latest and start <= latest.valid_from and valid_from is None:
        start = max(timezone.now().date(), latest.valid_from)
    version, _ = CatalogueVersion.objects.get_or_create(
        sha256=digest,
        defaults={
            "valid_from": start,
            "retrieved": retrieved,
            "source": str(data.get("source", ""))[:300],
            "data": data,
        },
    )
    return version


def prices_on(day: date) -> CatalogueVersion:
    """The catalogue version valid on `day`: the latest from that day or before, else the first one.

    Records the bundled file as the first version when none is kept yet.
    """
    from deployments.models import CatalogueVersion

    versions = CatalogueVersion.objects.order_by("-valid_from", "-id")
    found = versions.filter(valid_from__lte=day).first() or versions.last()
    return found or catalogue_version_record()
