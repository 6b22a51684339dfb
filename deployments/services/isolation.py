"""The operator's "prove isolation" check: a tenant's temporary token tries to reach other tenants' models.

Every attempt goes through the real API in-process (django.test.Client: the URLconf, middleware, auth,
target resolution, rate limit and SageMaker Runtime call of a real request). An attempt proves isolation
when the API refuses it, or when it is served exactly as the tenant's OWN target serves the same body
(asked of SageMaker directly, beside the API). The temporary token is revoked at the end, even when an
attempt raises, and the revoked token is then tried once more.

The run is kept as its audit event (action "tenant.isolation_check", the attempts in `after`): the audit
log is where evidence belongs, and the tenant page shows the latest one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from django.utils import timezone

from deployments.models import AsyncInference, Deployment, DeploymentMember, Kind, Status
from deployments.services import inference
from deployments.services.inference import InferenceRefused
from tenants.audit import audit_record
from tenants.models import AuditEvent, Tenant, TenantStatus, TenantToken
from tenants.tokens import token_create, token_revoke

log = logging.getLogger(__name__)

ACTION = "tenant.isolation_check"
PREDICT = "/api/v1/predict"
# Rows in the shape of the API documentation's example: the answers are compared, never judged. Three
# rows, so that another model matching the tenant's own on every one of them by chance is unlikely.
INSTANCES: list[list[float]] = [[12, 70, 1, 3, 12, 0], [3, 20, 0, 1, 40, 1], [48, 95.5, 4, 0.5, 1, 2]]
ROWS_CSV = "\n".join(",".join(str(value) for value in row) for row in INSTANCES).encode()
JSON_ROWS: dict[str, Any] = {"instances": INSTANCES}
REFUSALS = {401, 403, 404, 409}  # the API said no before any model was called
RATE_LIMIT_RETRIES = 5


@dataclass
class Attempt:
    """One request of the check and what it proves."""

    label: str
    request: str
    status: int = 0
    code: str = ""
    verdict: str = ""  # refused, own model, or not isolated
    note: str = ""

    @property
    def proves(self) -> bool:
        return self.verdict in ("refused", "own model")


@dataclass
class Names:
    """Another tenant's names, as a caller could try to put them in a request."""

    target_model: str = ""
    hostname: str = ""
    endpoint: str = ""
    inference_id: str = ""
    whose: dict[str, str] = field(default_factory=dict)  # which tenant each name belongs to


def other_names(tenant: Tenant) -> Names:
    """The names of other tenants' models, endpoints and async results (neighbours on shared ones first)."""
    names = Names()
    live = Deployment.objects.exclude(status=Status.DELETED)
    own_shared = set(DeploymentMember.objects.filter(tenant=tenant).values_list("deployment_id", flat=True))
    members = DeploymentMember.objects.exclude(tenant=tenant).filter(deployment__in=live)
    ordered = sorted(
        members.select_related("deployment", "tenant"),
        key=lambda m: (m.deployment_id not in own_shared, -m.deployment.created_at.timestamp()),
    )
    for member in ordered:
        slot = SHARED_SLOTS.get(member.deployment.kind, "")
        if slot and not getattr(names, slot):
            setattr(names, slot, member.target)
            names.whose[slot] = member.tenant.name
    others = live.exclude(tenant=tenant).exclude(pk__in=own_shared).exclude(aws_name="")
    deployment = others.select_related("tenant").order_by("-created_at").first()
    if deployment is not None:
        names.endpoint = deployment.endpoint_name
        names.whose["endpoint"] = deployment.tenant.name if deployment.tenant else "other tenants"
    record = AsyncInference.objects.exclude(tenant=tenant).select_related("tenant").first()
    if record is not None:
        names.inference_id = record.inference_id
        names.whose["inference_id"] = record.tenant.name
    return names


SHARED_SLOTS: dict[str, str] = {Kind.MULTI_MODEL: "target_model", Kind.MULTI_CONTAINER: "hostname"}


def tricks(names: Names) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(label, slot, request) for each place a name could be smuggled: headers, query string, JSON body.

    The headers are SageMaker Runtime's own (InvokeEndpoint / InvokeEndpointAsync request syntax, SageMaker
    Runtime API Reference), as a caller who knows AWS would try them; AWS puts the endpoint name in the
    path, so X-Amzn-SageMaker-Endpoint-Name is a guess in the same style.
    """
    headers = {
        "target_model": "X-Amzn-SageMaker-Target-Model",
        "hostname": "X-Amzn-SageMaker-Target-Container-Hostname",
        "endpoint": "X-Amzn-SageMaker-Endpoint-Name",
        "inference_id": "X-Amzn-SageMaker-Inference-Id",
    }
    queries = {
        "target_model": "TargetModel",
        "hostname": "TargetContainerHostname",
        "endpoint": "endpoint",
        "inference_id": "InferenceId",
    }
    bodies = {
        "target_model": "TargetModel",
        "hostname": "TargetContainerHostname",
        "endpoint": "EndpointName",
        "inference_id": "inference_id",
    }
    for slot, header in headers.items():
        yield f"{header} header", slot, {"headers": {header: getattr(names, slot)}}
    for slot, param in queries.items():
        yield f"{param} query parameter", slot, {"query": {param: getattr(names, slot)}}
    for slot, key in bodies.items():
        yield f"{key} field of the JSON body", slot, {"json": {**JSON_ROWS, key: getattr(names, slot)}}


class _Api:
    """The real API in-process, called with one Bearer token (Host and scheme as the operator's request)."""

    def __init__(self, secret: str, host: str, secure: bool) -> None:
        self.client = Client(HTTP_HOST=host, raise_request_exception=False)
        self.secret, self.secure = secret, secure

    def call(self, method: str, path: str, spec: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self.secret}", **spec.get("headers", {})}
        if "json" in spec:
            body, content_type = json.dumps(spec["json"]).encode(), "application/json"
        else:
            body, content_type = ROWS_CSV, "text/csv"
        for _attempt in range(RATE_LIMIT_RETRIES):
            if method == "GET":
                response = self.client.get(path, headers=headers, secure=self.secure)
            else:
                query = urlencode(spec.get("query", {}))
                url = f"{path}?{query}" if query else path
                response = self.client.post(
                    url, body, content_type=content_type, headers=headers, secure=self.secure
                )
            if response.status_code != 429 or _code(response) != "rate_limited":
                return response
            # The tenant's own rate limit: wait as a polite client does, so the attempt is judged.
            time.sleep(min(float(response.get("Retry-After", "1")), 5.0))
        return response


def _code(response: Any) -> str:
    try:
        return str(json.loads(response.content).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _summary(method: str, path: str, spec: dict[str, Any]) -> str:
    parts = [f"{method} {path}"]
    if spec.get("query"):
        parts[0] += "?" + urlencode(spec["query"])
    parts += [f"{key}: {value}" for key, value in spec.get("headers", {}).items()]
    if "json" in spec:
        parts.append(json.dumps(spec["json"]))
    return " · ".join(parts)


Own = tuple[str, Any] | None  # ("ok", body) or ("error", code) from the tenant's own target; None: none


def _own_answer(target: inference.Target | None, spec: dict[str, Any]) -> Own:
    """What the tenant's own target answers to this body, asked of SageMaker directly (not via the API)."""
    if target is None or target.kind == Kind.ASYNC:
        return None
    if "json" in spec:
        body, content_type = json.dumps(spec["json"]).encode(), "application/json"
    else:
        body, content_type = ROWS_CSV, "text/csv"
    try:
        return ("ok", inference.predict(target, body, content_type).body)
    except InferenceRefused as exc:
        return ("error", exc.code)


def _judge(attempt: Attempt, response: Any, own: Own, tenant: Tenant, target: Any) -> Attempt:
    """Set the attempt's status, code and verdict from the API's answer."""
    attempt.status, attempt.code = response.status_code, _code(response)
    if attempt.status in REFUSALS:
        attempt.verdict, attempt.note = "refused", "The API refused it before any model was called."
    elif attempt.status == 200 and own == ("ok", response.content):
        attempt.verdict, attempt.note = "own model", "The same prediction as the tenant's own model gives."
    elif attempt.status == 202 and _queued_on_own(response, tenant, target):
        attempt.verdict, attempt.note = "own model", "Queued on the tenant's own asynchronous endpoint."
    elif attempt.status >= 400 and own == ("error", attempt.code):
        attempt.verdict, attempt.note = "own model", "The same refusal as the tenant's own model gives."
    elif attempt.status == 200:
        attempt.verdict = "not isolated"
        attempt.note = "Served a prediction that differs from the tenant's own model: another model answered."
    else:
        attempt.verdict = "not isolated"
        attempt.note = (
            "Neither refused nor answered as the tenant's own model: the request reached SageMaker."
        )
    return attempt


def _queued_on_own(response: Any, tenant: Tenant, target: Any) -> bool:
    inference_id = json.loads(response.content).get("inference_id", "")
    record = AsyncInference.objects.filter(inference_id=inference_id).first()
    return bool(
        record and target and record.tenant_id == tenant.pk and record.deployment_id == target.deployment.pk
    )


def _target(tenant: Tenant) -> inference.Target | None:
    try:
        return inference.target_lookup(tenant)
    except InferenceRefused:
        return None


WHAT = {
    "target_model": "model",
    "hostname": "container",
    "endpoint": "endpoint",
    "inference_id": "asynchronous prediction",
}
NAMES_MISSING = {
    "target_model": "No other tenant has a model on a multi-model endpoint.",
    "hostname": "No other tenant has a container on a multi-container endpoint.",
    "endpoint": "No other tenant has an endpoint of its own.",
    "inference_id": "No other tenant has an asynchronous prediction.",
}


def _attempts(tenant: Tenant, api: _Api) -> Iterator[Attempt]:
    """Every attempt but the revoked token's, in order, each judged as it is made."""
    target, names = _target(tenant), other_names(tenant)
    label = (
        "Suspended tenant" if tenant.status == TenantStatus.SUSPENDED else "Its own model, nothing smuggled"
    )
    plain: dict[str, Any] = {}
    yield _judge(
        Attempt(label, _summary("POST", PREDICT, plain)),
        api.call("POST", PREDICT, plain),
        _own_answer(target, plain),
        tenant,
        target,
    )
    for trick_label, slot, spec in tricks(names):
        value = getattr(names, slot)
        if not value:
            yield Attempt(trick_label, "", verdict="not tried", note=NAMES_MISSING[slot])
            continue
        whose = f"{names.whose[slot]}’s {WHAT[slot]}"
        attempt = Attempt(f"{trick_label} naming {whose}", _summary("POST", PREDICT, spec))
        yield _judge(attempt, api.call("POST", PREDICT, spec), _own_answer(target, spec), tenant, target)
    yield _other_result(names, api, tenant, target)


def _other_result(names: Names, api: _Api, tenant: Tenant, target: Any) -> Attempt:
    """GET another tenant's asynchronous result by its inference id."""
    label = "Another tenant’s asynchronous result"
    if not names.inference_id:
        return Attempt(label, "", verdict="not tried", note=NAMES_MISSING["inference_id"])
    path = f"/api/v1/predictions/{names.inference_id}"
    attempt = Attempt(f"{names.whose['inference_id']}’s asynchronous result", f"GET {path}")
    return _judge(attempt, api.call("GET", path, {}), None, tenant, target)


# The check's own call, each trick, another tenant's result, the revoked token: what the page counts to.
ATTEMPTS_TOTAL = 1 + len(list(tricks(Names()))) + 1 + 1
TOKEN_NAME = "Isolation check (temporary)"  # noqa: S105 - the token's name on pages, not a secret
# The token is revoked at the end of the check; should its process be killed first, it expires anyway.
TOKEN_LIFETIME = timedelta(minutes=15)


def isolation_check_run(
    *, actor: Any, tenant: Tenant, host: str = "testserver", secure: bool = False
) -> AuditEvent:
    """Run the check with a temporary token of `tenant`, revoke the token, and record the evidence."""
    token, attempts = isolation_attempts_make(actor=actor, tenant=tenant, host=host, secure=secure)
    return isolation_evidence_record(actor=actor, tenant=tenant, token=token, attempts=attempts)


def isolation_attempts_make(
    *,
    actor: Any,
    tenant: Tenant,
    host: str,
    secure: bool,
    token_made: Callable[[TenantToken], None] = lambda token: None,
    progress: Callable[[list[Attempt]], None] = lambda attempts: None,
) -> tuple[TenantToken, list[Attempt]]:
    """Make every attempt with a new temporary token, revoked at the end even when an attempt raises.

    `token_made` hears of the token as soon as it exists, `progress` of the attempts after each one.
    """
    expires_at = timezone.now() + TOKEN_LIFETIME
    token, secret = token_create(actor=actor, tenant=tenant, name=TOKEN_NAME, expires_at=expires_at)
    token_made(token)
    api = _Api(secret, host, secure)
    attempts: list[Attempt] = []
    try:
        for attempt in _attempts(tenant, api):
            attempts.append(attempt)
            progress(attempts)
    finally:
        # Revoked whatever happened above: a temporary token must not outlive its check.
        token_revoke(actor=actor, token=token, reason="the isolation check is over")
    revoked = Attempt("The temporary token, once revoked", _summary("POST", PREDICT, {}))
    attempts.append(_judge(revoked, api.call("POST", PREDICT, {}), None, tenant, None))
    progress(attempts)
    return token, attempts


def isolation_evidence_record(
    *, actor: Any, tenant: Tenant, token: TenantToken, attempts: list[Attempt]
) -> AuditEvent:
    """The check's evidence as its audit event: each attempt, the outcome, whether isolation held."""
    tried = [attempt for attempt in attempts if attempt.verdict != "not tried"]
    failed = [attempt for attempt in tried if not attempt.proves]
    outcome = (
        f"{len(failed)} of {len(tried)} attempts were not isolated"
        if failed
        else f"all {len(tried)} attempts were refused or served by its own model"
    )
    after = {
        "outcome": outcome,
        "passed": not failed,
        "token": token.prefix,
        "attempts": [asdict(a) for a in attempts],
    }
    return audit_record(actor=actor, action=ACTION, obj=tenant, tenant=tenant, after=after)


def isolation_check_latest(tenant: Tenant) -> AuditEvent | None:
    """The tenant's latest isolation check (its audit event), or None when none has run."""
    return AuditEvent.objects.filter(tenant=tenant, action=ACTION).select_related("actor").first()
