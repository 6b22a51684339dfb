"""Server-side validation of requests against botocore's SageMaker model, with AWS's messages."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape

from emulator.errors import AwsError, validation

_MAX_REPORTED = 10


@lru_cache(maxsize=2)
def service_model(name: str = "sagemaker") -> Any:
    """The botocore service model (loaded once: it takes a few hundred milliseconds)."""
    return botocore.session.get_session().get_service_model(name)


def operation(name: str) -> OperationModel | None:
    """The control-plane operation called `name`, or None when SageMaker has no such action."""
    model = service_model()
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    # AWS's patterns are Java regexes matched in full; the few Python cannot compile are skipped.
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _check_scalar(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            raise AwsError("SerializationException", f"Expected a string at '{path}'")
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Member must have length less than or equal to {meta['max']}")
        pattern = meta.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            errors.append(f"Member must satisfy regular expression pattern: {pattern}")
        # Instance types too: the region's own offer is checked after, by each action.
        if shape.enum and value not in shape.enum:
            errors.append(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AwsError("SerializationException", f"Expected a number at '{path}'")
        if "min" in meta and value < meta["min"]:
            errors.append(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"Member must have value less than or equal to {meta['max']}")
    elif kind == "boolean" and not isinstance(value, bool):
        raise AwsError("SerializationException", f"Expected a boolean at '{path}'")


def _walk(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"Expected an object at '{path or 'request'}'")
        for required in shape.required_members:
            if value.get(required) is None:
                where = f"{path}.{_camel(required)}" if path else _camel(required)
                errors.append(
                    f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _walk(member, value[name], f"{path}.{_camel(name)}" if path else _camel(name), errors)
    elif kind == "list":
        if not isinstance(value, list):
            raise AwsError("SerializationException", f"Expected a list at '{path}'")
        meta = shape.metadata
        if "min" in meta and len(value) < meta["min"]:
            errors.append(
                f"Value at '{path}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and len(value) > meta["max"]:
            errors.append(
                f"Value at '{path}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {meta['max']}"
            )
        for index, item in enumerate(value, start=1):
            _walk(shape.member, item, f"{path}.{index}.member", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"Expected an object at '{path}'")
    else:
        problems: list[str] = []
        _check_scalar(shape, value, path, problems)
        errors.extend(
            f"Value {_shown(value)} at '{path}' failed to satisfy constraint: {problem}"
            for problem in problems
        )


def validate_request(op: OperationModel, params: Any) -> None:
    """Raise `ValidationException` listing what breaks the operation's input shape, as AWS words it."""
    if op.input_shape is None:
        return
    errors: list[str] = []
    _walk(op.input_shape, params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise validation(f"{count} validation {noun} detected: " + "; ".join(errors[:_MAX_REPORTED]))
