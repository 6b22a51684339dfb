"""What SageMaker's published service model (botocore's) accepts: the enums AWS validates requests against.

AWS refuses a request whose enum member is outside the shape's value set before anything else
("Member must satisfy enum value set"), so these sets bound what the product may ever send.
"""

from __future__ import annotations

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
