"""List calls' filtering, sorting and NextToken pagination, and the tag operations."""

from __future__ import annotations

import base64
from typing import Any

from emulator.errors import not_found, validation
from emulator.state import Store

DEFAULT_PAGE = 10


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        label, _, raw = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if label == "offset":
            return int(raw)
    except (ValueError, UnicodeDecodeError):
        pass
    raise validation("Invalid pagination token because the token was not recognized.")


def list_answer(
    table: dict[tuple[str, str], dict[str, Any]],
    region: str,
    params: dict[str, Any],
    *,
    result_key: str,
    summary_keys: tuple[str, ...],
    name_field: str,
    status_field: str | None = None,
) -> dict[str, Any]:
    """A List* answer: the region's records filtered, sorted, paged and summarised (caller holds the lock).

    Filters are NameContains, StatusEquals and the creation/modification time bounds; SortBy is Name,
    CreationTime or (with a status) Status, SortOrder defaults to Descending.
    """
    found = [r for (reg, _), r in table.items() if reg == region]
    if params.get("NameContains"):
        needle = params["NameContains"].lower()
        found = [r for r in found if needle in r[name_field].lower()]
    if status_field and params.get("StatusEquals"):
        found = [r for r in found if r[status_field] == params["StatusEquals"]]
    for bound, field, before in (
        ("CreationTimeBefore", "CreationTime", True),
        ("CreationTimeAfter", "CreationTime", False),
        ("LastModifiedTimeBefore", "LastModifiedTime", True),
        ("LastModifiedTimeAfter", "LastModifiedTime", False),
    ):
        if params.get(bound) is not None:
            limit = float(params[bound])
            found = [r for r in found if (r.get(field, 0) < limit) == before]
    sort_fields = {"Name": name_field, "CreationTime": "CreationTime"}
    if status_field:
        sort_fields["Status"] = status_field
    sort_by = params.get("SortBy", "CreationTime")
    if sort_by not in sort_fields:
        raise validation(
            f"Value '{sort_by}' at 'sortBy' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(sort_fields)}]"
        )
    field = sort_fields[sort_by]
    descending = params.get("SortOrder", "Descending") == "Descending"
    found.sort(key=lambda r: (r.get(field), r[name_field]), reverse=descending)
    start = _offset(params.get("NextToken"))
    size = int(params.get("MaxResults") or DEFAULT_PAGE)
    answer: dict[str, Any] = {
        result_key: [{k: r[k] for k in summary_keys if k in r} for r in found[start : start + size]]
    }
    if start + size < len(found):
        answer["NextToken"] = _token(start + size)
    return answer


def _owner_exists(store: Store, resource_arn: str) -> bool:
    # arn:aws:sagemaker:<region>:<account>:<kind>/<name>
    parts = resource_arn.split(":", 5)
    if len(parts) != 6 or "/" not in parts[5]:
        return False
    region, (kind, _, name) = parts[3], parts[5].partition("/")
    table = {
        "model": store.models,
        "endpoint-config": store.configs,
        "endpoint": store.endpoints,
        "transform-job": store.jobs,
    }.get(kind)
    return table is not None and (region, name) in table


def _require_owner(store: Store, resource_arn: str) -> None:
    if not _owner_exists(store, resource_arn):
        raise not_found(f"Resource {resource_arn} does not exist.")


def add_tags(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """AddTags: set tags on a resource by ARN (at most 50 per resource)."""
    resource = params["ResourceArn"]
    with store.lock:
        _require_owner(store, resource)
        current = store.tags.setdefault(resource, {})
        merged = {**current, **{t["Key"]: t.get("Value", "") for t in params["Tags"]}}
        if len(merged) > 50:
            raise validation("Too many tags: a resource can have at most 50 tags.")
        current.update(merged)
        store.touch()
    return {"Tags": params["Tags"]}


def list_tags(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """ListTags: the tags of a resource, paginated."""
    resource = params["ResourceArn"]
    with store.lock:
        _require_owner(store, resource)
        tags = [{"Key": k, "Value": v} for k, v in sorted(store.tags.get(resource, {}).items())]
    start = _offset(params.get("NextToken"))
    size = int(params.get("MaxResults") or 50)
    answer: dict[str, Any] = {"Tags": tags[start : start + size]}
    if start + size < len(tags):
        answer["NextToken"] = _token(start + size)
    return answer


def delete_tags(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteTags: remove tag keys from a resource."""
    resource = params["ResourceArn"]
    with store.lock:
        _require_owner(store, resource)
        current = store.tags.get(resource, {})
        for key in params["TagKeys"]:
            current.pop(key, None)
        store.touch()
    return {}


def put_tags(store: Store, resource_arn: str, tags: list[dict[str, str]] | None) -> None:
    """Record the Tags given to a Create call (the caller holds the lock)."""
    if tags:
        store.tags[resource_arn] = {t["Key"]: t.get("Value", "") for t in tags}
