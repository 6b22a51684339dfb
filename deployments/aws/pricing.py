"""The AWS Pricing API (GetProducts) for SageMaker on-demand prices, parsed into catalogue entries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from deployments.aws.clients import call

# SageMaker usage types name what is billed: "<region code>-Host:ml.m5.large" is a real-time instance hour.
USAGE_PATTERNS = (
    (re.compile(r"-Host:(ml\.[\w.]+)$"), "realtime"),
    (re.compile(r"-AsyncInf:(ml\.[\w.]+)$"), "async"),
    (re.compile(r"-Tsform:(ml\.[\w.]+)$"), "transform"),
    (re.compile(r"-ServerlessInf:Mem-(\d+)GB$"), "serverless_gb"),
    (re.compile(r"-ServerlessInf(?:-DataProcessing)?-Bytes"), "serverless_data"),
)


@dataclass(frozen=True)
class Price:
    """One on-demand price: what it is for (use), the instance type or memory size, and USD per unit."""

    use: str
    subject: str
    usd: float
    unit: str
    vcpu: int = 0
    memory_gib: float = 0.0
    gpus: int = 0


def _usd(terms: dict[str, Any]) -> tuple[float, str]:
    for term in terms.get("OnDemand", {}).values():
        for dimension in term["priceDimensions"].values():
            return float(dimension["pricePerUnit"].get("USD", 0)), dimension.get("unit", "")
    return 0.0, ""


def _number(text: str) -> float:
    match = re.match(r"[\d.]+", text or "")
    return float(match.group()) if match else 0.0


def _parse(raw: str) -> Price | None:
    item = json.loads(raw)
    attributes = item["product"].get("attributes", {})
    usage = attributes.get("usagetype", "")
    for pattern, use in USAGE_PATTERNS:
        match = pattern.search(usage)
        if match:
            usd, unit = _usd(item.get("terms", {}))
            return Price(
                use=use,
                subject=match.group(1) if match.groups() else "",
                usd=usd,
                unit=unit,
                vcpu=int(_number(attributes.get("vCpu", "0"))),
                memory_gib=_number(attributes.get("memory", "0")),
                gpus=int(_number(attributes.get("gpu", "0"))),
            )
    return None


def sagemaker_prices(region: str) -> Iterator[Price]:
    """Every SageMaker inference price of `region` the product uses, page by page."""
    params: dict[str, Any] = {
        "ServiceCode": "AmazonSageMaker",
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    while True:
        # API: GetProducts (AWS Price List Query API)
        page = call("pricing", "get_products", f"AmazonSageMaker/{region}", **params)
        for raw in page.get("PriceList", []):
            price = _parse(raw)
            if price is not None:
                yield price
        if not page.get("NextToken"):
            return
        params["NextToken"] = page["NextToken"]
