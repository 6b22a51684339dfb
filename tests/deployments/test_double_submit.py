"""A write form sent twice — a double click, Back and send again, two copies at once — acts once, and the
second send is told so: never a 500, never a second write (saasadmin.submissions)."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from deployments import services
from deployments.models import Deployment, DeploymentMember, Kind, ModelPackage, Status
from deployments.rules import settings_normalise
from saasadmin.submissions import REPEATED, STILL_RUNNING
from tenants.models import AuditEvent
from tests.deployments.conftest import make_package
from tests.factories import make_tenant

KEY = re.compile(r'name="submit_key" value="([0-9a-f-]+)"')


@dataclass
class Form:
    """One write form: the page that shows it, where it is sent, what it sends, and what acting did."""

    page: str
    action: str
    data: Callable[[], dict[str, Any]]  # called per send: an upload needs a fresh file each time
    acted: Callable[[], int]  # how many times the write happened (1 after any number of sends)
    service: str  # "module:function" the view calls to write, for the concurrent case
    via_plan: bool = False  # the page sends action=plan first, and the plan page sends action=apply


def _audits(action: str) -> Callable[[], int]:
    return lambda: AuditEvent.objects.filter(action=action).count()


def _deployment(world: SimpleNamespace, status: str) -> Deployment:
    return Deployment.objects.create(
        tenant=world.tenant_a, name="alpha-rt", kind=Kind.REALTIME, isolation="silo",
        aws_name="sa-alpha-rt", status=status, settings=settings_normalise(Kind.REALTIME, {}),
    )  # fmt: skip


def _shared(*members: Any) -> Deployment:
    shared = Deployment.objects.create(
        name="bridge-mme", kind=Kind.MULTI_MODEL, isolation="bridge", aws_name="sa-shared-mm-twice",
        status=Status.IN_SERVICE, settings=settings_normalise(Kind.MULTI_MODEL, {}),
    )  # fmt: skip
    for tenant in members:
        DeploymentMember.objects.create(
            deployment=shared, tenant=tenant, model_package=make_package(tenant),
            target=f"{tenant.slug}.tar.gz", state="active",
        )  # fmt: skip
    return shared


def _apply(world: SimpleNamespace) -> Form:
    package = make_package(world.tenant_a, key="alpha")
    data = {
        "uid": "6f0d3b3e-8a41-4a6f-9a55-0b8c2f6e7d10", "name": "alpha-realtime", "kind": Kind.REALTIME,
        "isolation": "silo", "tenant": str(world.tenant_a.pk), "model_package": str(package.pk),
        "instance_type": "ml.m5.large", "instance_count": "1", "payload_mb": "1",
    }  # fmt: skip
    page = f"{reverse('deployment_new')}?tenant={world.tenant_a.pk}"
    return Form(page, reverse("deployment_new"), lambda: data, Deployment.objects.count,
                "deployments.services:deployment_apply", via_plan=True)  # fmt: skip


def _join(world: SimpleNamespace) -> Form:
    first, joining = make_tenant(isolation="bridge"), make_tenant(isolation="bridge")
    shared = _shared(first)
    data = {"tenant": str(joining.pk), "model_package": str(make_package(joining).pk)}
    url = reverse("member_join", args=[shared.pk])
    return Form(url, url, lambda: data, _audits("deployment.member_join"),
                "deployments.services:deployment_member_join", via_plan=True)  # fmt: skip


def _leave(world: SimpleNamespace) -> Form:
    first, leaving = make_tenant(isolation="bridge"), make_tenant(isolation="bridge")
    url = reverse("member_leave", args=[_shared(first, leaving).pk, leaving.pk])
    return Form(url, url, dict, _audits("deployment.member_leave"),
                "deployments.services:deployment_member_leave")  # fmt: skip


def _delete(world: SimpleNamespace) -> Form:
    url = reverse("deployment_delete", args=[_deployment(world, Status.IN_SERVICE).pk])
    return Form(url, url, dict, _audits("deployment.delete"), "deployments.services:deployment_delete")


def _retry(world: SimpleNamespace) -> Form:
    deployment = _deployment(world, Status.FAILED)
    return Form(reverse("deployment_detail", args=[deployment.pk]),
                reverse("deployment_retry", args=[deployment.pk]), dict, _audits("deployment.retry"),
                "deployments.services:deployment_retry")  # fmt: skip


def _suspend(world: SimpleNamespace) -> Form:
    url = reverse("tenant_suspend", args=[world.tenant_a.pk])
    return Form(url, url, lambda: {"reason": "Unpaid invoice"}, _audits("tenant.suspended"),
                "tenants.services:tenant_transition")  # fmt: skip


def _offboard(world: SimpleNamespace) -> Form:
    url = reverse("tenant_offboard", args=[world.tenant_b.pk])
    data = {"reason": "Contract ended", "confirm_slug": world.tenant_b.slug}
    return Form(url, url, lambda: data, _audits("tenant.offboarding"), "tenants.services:tenant_transition")


def _upload(world: SimpleNamespace) -> Form:
    from tests.deployments.test_pages import _tarball

    def data() -> dict[str, Any]:
        archive = io.BytesIO(_tarball({"xgboost-model": b"{}"}))
        archive.name = "model.tar.gz"
        return {"tenant": str(world.tenant_a.pk), "framework": "xgboost", "version": "3.0-5",
                "archive": archive}  # fmt: skip

    return Form(reverse("model_packages"), reverse("model_package_upload"), data,
                ModelPackage.objects.filter(tenant=world.tenant_a).count,
                "deployments.services:model_package_upload")  # fmt: skip


def _token_revoke(world: SimpleNamespace) -> Form:
    from tenants.tokens import token_create

    token, _secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    url = reverse("tenant_token_revoke", args=[world.tenant_a.pk, token.pk])
    return Form(url, url, dict, _audits("token.revoke"), "tenants.views_tokens:token_revoke")


def _rate_limits(world: SimpleNamespace) -> Form:
    from tenants.rate_limits import TIER_DEFAULTS

    data = {f"{tier}_{part}": str(getattr(limit, field)) for tier, limit in TIER_DEFAULTS.items()
            for part, field in (("rate", "requests_per_second"), ("burst", "burst"))}  # fmt: skip
    url = reverse("rate_limits")
    return Form(url, url, lambda: {**data, "free_burst": "7"}, _audits("rate_limit.update"),
                "tenants.views_limits:rate_limits_set")  # fmt: skip


FORMS = {
    "apply": _apply, "join": _join, "leave": _leave, "delete": _delete, "retry": _retry,
    "suspend": _suspend, "offboard": _offboard, "upload": _upload, "token_revoke": _token_revoke,
    "rate_limits": _rate_limits,
}  # fmt: skip


@pytest.fixture
def ready(world: SimpleNamespace, aws: Any, queue: Any) -> Callable[[str], Form]:
    """The named form, in a world where it can act (the emulator takes the uploads)."""
    return lambda name: FORMS[name](world)


def _operator(world: SimpleNamespace) -> Client:
    client = Client()
    client.force_login(world.operator)
    return client


def _form_data(client: Client, form: Form) -> dict[str, Any]:
    """What the browser sends: the form's fields and the key the page put in it (after the plan, if any)."""
    page = client.get(form.page).content.decode()
    found = KEY.search(page)
    data = {**form.data(), **({"submit_key": found.group(1)} if found else {})}
    if form.via_plan:
        plan = client.post(form.action, {**data, "action": "plan"}).content.decode()
        found = KEY.search(plan)
        data = {**data, "action": "apply", **({"submit_key": found.group(1)} if found else {})}
    return data


def _send(client: Client, form: Form, data: dict[str, Any]) -> Any:
    return client.post(form.action, {**data, **{k: v for k, v in form.data().items() if k == "archive"}})


@pytest.mark.parametrize("name", FORMS)
def test_a_form_sent_twice_acts_once_and_says_so(
    name: str, ready: Callable[[str], Form], world: SimpleNamespace
) -> None:
    form = ready(name)
    client = _operator(world)
    data = _form_data(client, form)
    first = _send(client, form, data)
    second = _send(client, form, data)  # a double click, or Back and send again
    assert (first.status_code, second.status_code) == (302, 302)
    assert second["Location"] == first["Location"]
    assert form.acted() == 1
    assert REPEATED in client.get(second["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", FORMS)
def test_two_copies_sent_at_once_act_once(
    name: str, ready: Callable[[str], Form], world: SimpleNamespace, monkeypatch: Any
) -> None:
    """The second copy arrives while the first is inside the service; it waits and gets the same outcome."""
    form = ready(name)
    inside, release = threading.Event(), threading.Event()
    module_name, attr = form.service.split(":")
    module = __import__(module_name, fromlist=[attr])
    original = getattr(module, attr)

    def held(*args: Any, **kwargs: Any) -> Any:
        if not inside.is_set():
            inside.set()
            release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, attr, held)
    clients = [_operator(world), _operator(world)]
    data = _form_data(clients[0], form)
    answers: list[Any] = [None, None]

    def send(index: int) -> None:
        try:
            answers[index] = _send(clients[index], form, data)
        except Exception as exc:  # a 500 in the test client surfaces as the view's exception
            answers[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in (0, 1)]
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    time.sleep(0.5)  # the second copy finds the key claimed and waits for the first
    release.set()
    for thread in threads:
        thread.join(20)
    assert [getattr(a, "status_code", a) for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert form.acted() == 1
    assert REPEATED in clients[1].get(answers[1]["Location"]).content.decode()


def test_an_apply_sent_again_without_its_key_is_refused_in_words(
    ready: Callable[[str], Form], world: SimpleNamespace
) -> None:
    """A page without the key (cached from before, a script): the form's uid still creates one deployment."""
    form = ready("apply")
    client = _operator(world)
    data = {**form.data(), "action": "apply"}
    assert client.post(form.action, data).status_code == 302
    again = client.post(form.action, data)
    assert again.status_code == 200
    assert "This form was already applied" in again.content.decode()
    assert form.acted() == 1


def test_every_write_form_carries_a_key() -> None:
    """Each POST form of the pages sends `submit_key` (sign-in, sign-out and password forms excepted)."""
    from pathlib import Path

    from django.conf import settings

    exempt = {"base.html", "login.html", "password_change_form.html"}
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text()
        if template.name in exempt:
            continue
        forms = text.count('method="post"')
        assert text.count("{% submit_key %}") == forms, f"{template.name}: a write form without its key"


@pytest.mark.django_db(transaction=True)
def test_a_copy_that_cannot_wait_for_the_first_says_it_is_still_being_worked_on(
    ready: Callable[[str], Form], world: SimpleNamespace, monkeypatch: Any, settings: Any
) -> None:
    settings.SUBMIT_WAIT_SECONDS = 0.3
    form = ready("retry")
    inside, release = threading.Event(), threading.Event()
    original = services.deployment_retry

    def held(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "deployment_retry", held)
    first_client, second_client = _operator(world), _operator(world)
    data = _form_data(first_client, form)
    answers: list[Any] = []
    first = threading.Thread(target=lambda: (answers.append(_send(first_client, form, data)),
                                             connections.close_all()))  # fmt: skip
    first.start()
    assert inside.wait(10)
    second = second_client.post(form.action, data, HTTP_REFERER=f"http://testserver{form.page}")
    release.set()
    first.join(20)
    assert second.status_code == 302
    assert second["Location"] == f"http://testserver{form.page}"
    assert STILL_RUNNING in second_client.get(form.page).content.decode()
    assert answers[0].status_code == 302
    assert form.acted() == 1
