"""The audit log reads as sentences: who did what to which object, changes as before → after in words.

Operators see AWS internals (S3 URIs, ARNs, instance types, AWS names, settings); tenant members do not.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from deployments.models import Deployment, Kind, ModelPackage
from deployments.services import model_package_register
from tenants.audit import audit_record
from tenants.audit_text import AUDIT_PHRASES, audit_lines
from tenants.models import TENANT_TRANSITIONS, AuditEvent
from tests.factories import sign_in

# What a tenant member must never read in their audit log.
AWS_INTERNALS = ("s3://", "arn:", "ml.m5", "ml.c5", "sa-alpha", "instance", "TargetModel", "{", "}", "None")


def _audit_text(body: str) -> str:
    """The readable text of the page's audit log (from its heading to the end of the page's content)."""
    part = re.split(r"Audit log</h[12]>", body)[-1].split("</main>")[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())


@pytest.fixture
def history(client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any) -> SimpleNamespace:
    """What an operator (Ops Person) did to Alpha through the pages: a model, a deployment, changes."""
    operator = world.operator
    operator.first_name, operator.last_name = "Ops", "Person"
    operator.save()
    client.force_login(operator)
    package = model_package_register(
        actor=operator,
        tenant=world.tenant_a,
        framework="xgboost",
        version="3.0-5",
        model_data_url="s3://saasadmin-tests/models/alpha/model.tar.gz",
    )
    form = {
        "uid": "6f0d3b3e-8a41-4a6f-9a55-0b8c2f6e7d10",
        "name": "Alpha real-time",
        "kind": Kind.REALTIME,
        "isolation": "silo",
        "tenant": str(world.tenant_a.pk),
        "model_package": str(package.pk),
        "instance_type": "ml.m5.large",
        "instance_count": "1",
        "payload_mb": "1",
        "action": "apply",
    }
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("deployment_new"), form)
        deployment = Deployment.objects.get()
        changed = {**form, "instance_count": "2", "instance_type": "ml.c5.xlarge"}
        client.post(reverse("deployment_edit", args=[deployment.pk]), changed)
    tenant = world.tenant_a
    tenant_form = {
        "name": tenant.name,
        "slug": tenant.slug,
        "isolation": tenant.isolation,
        "tier": tenant.tier,
        "plan_price": "150.00",
        "currency": tenant.currency,
        "contact_email": tenant.contact_email,
    }
    client.post(reverse("tenant_edit", args=[tenant.pk]), tenant_form)
    # An action no phrase knows (another app's, or a newer one), with nested AWS details.
    audit_record(
        actor=operator,
        action="deployment.resource_forget",
        obj=deployment,
        tenant=tenant,
        after={
            "reason": "Deleted by hand in the AWS console",
            "resource": {"arn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sa-alpha-rt-6f0d3b3e"},
        },
    )
    assert AuditEvent.objects.filter(action__startswith="deployment.").count() == 3
    client.logout()
    return SimpleNamespace(package=package, deployment=deployment)


def test_the_operator_reads_sentences_with_the_aws_details(
    client: Any, world: SimpleNamespace, history: SimpleNamespace
) -> None:
    client.force_login(world.operator)
    for url in (reverse("audit_log"), reverse("tenant_detail", args=[world.tenant_a.pk])):
        text = _audit_text(client.get(url).content.decode())
        assert (
            "Ops Person changed Alpha real-time: the instance type from ml.m5.large to ml.c5.xlarge" in text
        )
        assert "the instance count from 1 to 2" in text
        assert "Ops Person changed the plan price of Alpha Corp from $100.00 to $150.00" in text
        assert "Ops Person created the real-time endpoint Alpha real-time" in text
        assert "Ops Person registered the model package alpha XGBoost 3.0-5 v1" in text
        assert "s3://saasadmin-tests/models/alpha/model.tar.gz" in text
        # The unknown action still reads as a sentence, its nested details as words, not a dict.
        assert "Ops Person did “resource forget” on the deployment Alpha real-time" in text
        assert "reason: Deleted by hand in the AWS console" in text
        assert "resource arn: arn:aws:sagemaker:us-east-1:123456789012:endpoint/sa-alpha-rt-6f0d3b3e" in text
        assert not re.findall(r"[{}]|None|settings\.|\w_\w", text)  # no dicts, reprs or field keys


def test_a_tenant_admin_reads_sentences_without_aws_internals(
    client: Any, world: SimpleNamespace, history: SimpleNamespace
) -> None:
    assert sign_in(client, "alice")
    body = client.get(reverse("tenant_detail", args=[world.tenant_a.pk])).content.decode()
    text = _audit_text(body)
    assert "Ops Person changed the infrastructure settings of Alpha real-time" in text
    assert "Ops Person changed the plan price of Alpha Corp from $100.00 to $150.00" in text
    assert "Ops Person created the real-time endpoint Alpha real-time" in text
    assert "Ops Person registered the model package alpha XGBoost 3.0-5 v1" in text
    assert "Ops Person did “resource forget” on the deployment Alpha real-time" in text
    for internal in AWS_INTERNALS:
        assert internal not in text, internal
    assert "Deleted by hand" not in text  # an unknown action's fields are for vendor staff only


def test_the_audit_page_stays_a_vendor_page(client: Any, world: SimpleNamespace) -> None:
    assert sign_in(client, "alice")
    assert client.get(reverse("audit_log")).status_code == 403


def _recorded_actions() -> set[str]:
    """Every action the code records: the "noun.verb" literals of the modules that call audit_record."""
    root = Path(__file__).resolve().parents[2]
    actions = {f"tenant.{to}" for targets in TENANT_TRANSITIONS.values() for to in targets}
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in {"tests", ".venv", "emulator"} or path.name == "audit.py":
            continue
        source = path.read_text()
        if "audit_record(" in source:
            actions |= set(re.findall(r"\"([a-z_]+\.[a-z_]+)\"", source))
    return actions


def test_every_recorded_action_has_its_own_phrase() -> None:
    actions = _recorded_actions()
    assert {"tenant.update", "deployment.member_change", "model_package.upload"} <= actions
    missing = sorted(actions - set(AUDIT_PHRASES))
    assert not missing, f"Give {missing} a phrase (tenants/audit_text.py or the app's audit_phrases.py)"


def _shapes(
    world: SimpleNamespace, package: ModelPackage
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each recorded action with before/after shaped as its service records them."""
    target = {"target": "alpha/xgboost-3.0-5-v1-g2.tar.gz"}
    return [
        (f"tenant.{to}", {"status": "active"}, {"status": to, "reason": "Contract ended"})
        for to in ("active", "suspended", "offboarding", "offboarded")
    ] + [
        (
            "tenant.onboard",
            {},
            {"name": "Alpha Corp", "isolation": "silo", "tier": "standard", "plan_price": "1.00"},
        ),
        ("user.create", {}, {"role": "tenant_admin"}),
        ("user.invite", {}, {"email": "new@example.com", "role": "tenant_viewer"}),
        ("user.join", {}, {"role": "tenant_viewer"}),
        (
            "user.remove",
            {"username": "victor", "role": "tenant_viewer", "is_active": True},
            {"is_active": False},
        ),
        ("user.invite_revoke", {"email": "new@example.com", "role": "tenant_viewer"}, {}),
        ("token.create", {}, {"name": "CI", "prefix": "ab12cd34", "expires_at": "2027-01-31T12:00:00+00:00"}),
        ("token.create", {}, {"name": "CI", "prefix": "ab12cd34", "expires_at": None}),
        (
            "token.revoke",
            {},
            {"name": "CI", "prefix": "ab12cd34", "reason": "the tenant is being offboarded"},
        ),
        ("token.revoke", {}, {"name": "CI", "prefix": "ab12cd34"}),
        (
            "rate_limit.update",
            {"requests_per_second": "10", "burst": 20},
            {"requests_per_second": "5", "burst": 8},
        ),
        ("deployment.member_join", {}, target),
        (
            "deployment.member_change",
            {**target, "model_package": "None"},
            {**target, "model_package": str(package.pk)},
        ),
        ("deployment.member_leave", target, {}),
        ("deployment.delete", {}, {}),
        ("deployment.retry", {}, {}),
        ("model_package.upload", {}, {"uri": "s3://bucket/models/alpha/xgboost/v1/model.tar.gz"}),
    ]


def test_each_action_reads_as_a_sentence_for_both_audiences(world: SimpleNamespace) -> None:
    package = ModelPackage.objects.create(
        tenant=world.tenant_a, framework="xgboost", framework_version="3.0-5", image_uri="x", version=1
    )
    for action, before, after in _shapes(world, package):
        event = audit_record(
            actor=world.operator,
            action=action,
            obj=world.tenant_a,
            tenant=world.tenant_a,
            before=before,
            after=after,
        )
        for internals in (True, False):
            line = audit_lines(AuditEvent.objects.filter(pk=event.pk), internals=internals)[0]
            text = " ".join([line.sentence, *line.details])
            assert line.sentence.startswith("olivia "), text
            assert line.sentence.endswith("."), text
            assert "did “" not in text, text
            assert not re.findall(r"[{}]|None|\w_\w", text), text
            if not internals:
                assert not re.findall(r"s3://|tar\.gz|target", text), text
    changed = AuditEvent.objects.get(action="deployment.member_change")
    assert "from none to alpha XGBoost 3.0-5 v1" not in audit_lines([changed], internals=False)[0].sentence
    assert (
        "the model package to alpha XGBoost 3.0-5 v1" in audit_lines([changed], internals=False)[0].sentence
    )
