"""Checking a request against botocore's service model, as AWS's front end checks it.

`botocore.validate.ParamValidator` checks required members, unknown members, types and minimums;
AWS also refuses values outside an enum, above a maximum or against a string pattern, which
ParamValidator leaves to the service. `constraint_problems` walks the input shape for those, with the
wording AWS uses in its `N validation errors detected: ...` answers. Patterns are Java regular
expressions matched against the whole value (SageMaker answers "Member must satisfy regular
expression pattern" for `bad_name`); the few Python's `re` cannot compile are skipped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator


@lru_cache(maxsize=8)
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


@lru_cache(maxsize=16)
def operation_names(service: str) -> dict[str, str]:
    """boto3's snake_case method name → operation name, as a client's `meta.method_to_api_mapping`."""
    client = botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return dict(client.meta.method_to_api_mapping)


def enum_of(service: str, shape_name: str) -> frozenset[str]:
    return frozenset(service_model(service).shape_for(shape_name).enum)


NUMBERS = ("integer", "long", "float", "double")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _scalar_problems(shape: Shape, value: Any, path: str) -> list[str]:
    meta, found = shape.metadata, []
    if shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            found.append(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"Member must have length less than or equal to {meta['max']}")
        compiled = _compiled(meta["pattern"]) if "pattern" in meta else None
        if compiled is not None and not compiled.fullmatch(value):
            found.append(f"Member must satisfy regular expression pattern: {meta['pattern']}")
    elif shape.type_name in NUMBERS and isinstance(value, int | float) and value > meta.get("max", value):
        found.append(f"Member must have value less than or equal to {meta['max']}")
    return [f"Value {value!r} at '{path}' failed to satisfy constraint: {problem}" for problem in found]


def constraint_problems(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Enum, pattern and maximum violations under `shape` (ParamValidator reports the rest)."""
    if shape is None:
        return []
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return [
            problem
            for name, member in shape.members.items()
            if value.get(name) is not None
            for problem in constraint_problems(member, value[name], f"{path}.{name}" if path else name)
        ]
    if kind == "list" and isinstance(value, list):
        found = []
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            found.append(
                f"Value at '{path}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {shape.metadata['max']}"
            )
        for index, item in enumerate(value, start=1):
            found += constraint_problems(shape.member, item, f"{path}.{index}.member")
        return found
    if kind == "map" and isinstance(value, dict):
        return [
            problem
            for key, item in value.items()
            for problem in constraint_problems(shape.key, key, f"{path}.key")
            + constraint_problems(shape.value, item, f"{path}.{key}")
        ]
    return _scalar_problems(shape, value, path)


def request_problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Everything AWS's model refuses in `params`: ParamValidator's report plus the constraints above."""
    shape = operation_model(service, operation).input_shape
    report = ParamValidator().validate(params, shape) if shape is not None else None
    problems = report.generate_report().splitlines() if report is not None and report.has_errors() else []
    return [line for line in problems if line and not line.startswith("Parameter validation failed")] + (
        constraint_problems(shape, params)
    )
