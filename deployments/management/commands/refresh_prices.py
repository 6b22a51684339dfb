"""manage.py refresh_prices — rewrite catalogue/sagemaker_prices.json from the AWS Pricing API (aws mode)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deployments import catalogue
from deployments.aws import AwsError
from deployments.aws.pricing import Price, sagemaker_prices


def _offered_uses(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry without prices for uses AWS does not offer the type for (their request enum lacks it)."""
    kept = {key: value for key, value in entry.items() if not key.endswith("_per_hour")}
    for use in ("realtime", "async", "transform"):
        if f"{use}_per_hour" in entry and name in catalogue.USES[use].aws_types():
            kept[f"{use}_per_hour"] = entry[f"{use}_per_hour"]
    return kept


def region_entry(prices: list[Price], previous: dict[str, Any]) -> dict[str, Any]:
    """A catalogue region from Pricing API prices; what the API does not list is kept from `previous`.

    Only the uses AWS accepts a type for are priced: a Pricing API listing does not make CreateTransformJob
    accept a type outside TransformInstanceType.
    """
    instances: dict[str, dict[str, Any]] = {}
    serverless = dict(previous.get("serverless", {}))
    for price in prices:
        if price.use in ("realtime", "async", "transform"):
            entry = instances.setdefault(
                price.subject, dict(previous.get("instances", {}).get(price.subject, {}))
            )
            entry[f"{price.use}_per_hour"] = round(price.usd, 6)
            if price.use == "realtime" and price.vcpu:
                entry.update(vcpu=price.vcpu, memory_gib=price.memory_gib, gpus=price.gpus)
        elif price.use == "serverless_gb" and price.subject:
            serverless["per_gb_second"] = round(price.usd / float(price.subject), 10)
        elif price.use == "serverless_data":
            serverless["per_gb_data_processed"] = round(price.usd, 6)
    for entry in instances.values():
        # Async inference and transform jobs are billed like hosting when the API lists no price of their own.
        if "realtime_per_hour" in entry:
            entry.setdefault("async_per_hour", entry["realtime_per_hour"])
            entry.setdefault("transform_per_hour", entry["realtime_per_hour"])
    offered = {name: _offered_uses(name, entry) for name, entry in instances.items()}
    complete = {
        name: entry for name, entry in offered.items() if {"realtime_per_hour", "vcpu"} <= entry.keys()
    }
    return {**previous, "instances": dict(sorted(complete.items())), "serverless": serverless}


class Command(BaseCommand):
    help = "Refresh the SageMaker pricing catalogue from the AWS Pricing API (needs AWS_MODE=aws)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--region", action="append", help="region to refresh (default: every one listed)")

    def handle(self, *args: Any, region: list[str] | None = None, **options: Any) -> None:
        if settings.AWS_MODE != "aws":
            raise CommandError("The Pricing API is AWS's own: run with AWS_MODE=aws and credentials.")
        data = json.loads(catalogue.CATALOGUE_PATH.read_text())
        for code in region or list(data["regions"]):
            try:
                prices = list(sagemaker_prices(code))
            except AwsError as exc:
                raise CommandError(f"{code}: {exc}") from exc
            if not prices:
                raise CommandError(
                    f"{code}: the Pricing API listed no SageMaker prices; the catalogue is unchanged."
                )
            data["regions"][code] = region_entry(prices, data["regions"].get(code, {}))
            self.stdout.write(f"{code}: {len(data['regions'][code]['instances'])} instance types")
        data["retrieved"] = date.today().isoformat()
        data["source"] = (
            "AWS Price List Query API (GetProducts, AmazonSageMaker), via manage.py refresh_prices"
        )
        catalogue.CATALOGUE_PATH.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        # The cost ledger prices each day with the version valid then: this one from today on.
        version = catalogue.catalogue_version_record(valid_from=date.today())
        self.stdout.write(self.style.SUCCESS(f"Wrote {catalogue.CATALOGUE_PATH}; kept as {version}."))
