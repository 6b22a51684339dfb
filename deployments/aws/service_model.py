"""What SageMaker's published service model (botocore's) accepts: the enums and string patterns AWS
validates requests against.

AWS refuses a request whose enum member is outside the shape's value set, or whose string breaks the
shape's pattern or length, before anything else ("Member must satisfy enum value set", "Member must
satisfy regular expression pattern"), so these rules bound what the product may ever send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import botocore.session


@lru_cache(maxsize=1)
def _sagemaker() -> Any:
    # Loading the model parses a few MB of JSON: once per process.
    return botocore.session.get_session().get_service_model("sagemaker")


def _enum(shape: str) -> frozenset[str]:
    return frozenset(_sagemaker().shape_for(shape).enum)


def variant_instance_types() -> frozenset[str]:
    """Instance types of an endpoint variant (CreateEndpointConfig ProductionVariants[].InstanceType)."""
    return _enum("ProductionVariantInstanceType")


def transform_instance_types() -> frozenset[str]:
    """Instance types of a transform job (CreateTransformJob TransformResources.InstanceType)."""
    return _enum("TransformInstanceType")


@dataclass(frozen=True)
class StringRule:
    """How AWS validates a string shape: its documented pattern (matched in full) and length bounds."""

    shape: str
    pattern: str
    min_length: int
    max_length: int | None

    def matches(self, value: str) -> bool:
        # AWS matches its (Java) patterns against the whole value, as re.fullmatch does.
        within = len(value) >= self.min_length and (self.max_length is None or len(value) <= self.max_length)
        return within and re.fullmatch(self.pattern, value) is not None


@lru_cache(maxsize=32)
def string_rule(shape: str) -> StringRule:
    """The rule AWS applies to string shape `shape` (e.g. DestinationS3Uri, SnsTopicArn), from botocore.

    Raises ValueError for a shape without a pattern Python can apply, so a wrong name fails at once.
    """
    metadata = _sagemaker().shape_for(shape).metadata
    pattern = metadata.get("pattern")
    if not pattern:
        raise ValueError(f"SageMaker's {shape} has no pattern")
    re.compile(pattern)  # a Java-only construct (\p{L}…) would raise here, not on a user's request
    return StringRule(shape, pattern, metadata.get("min", 0), metadata.get("max"))
