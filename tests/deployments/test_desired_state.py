"""Desired state says whether a deployment should exist: a retry resumes what was desired (a failed
delete deletes, it never creates again), and Cancel is offered only where there is something to cancel."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from deployments.models import Deployment, Desired, Kind, Status
from deployments.rules import settings_normalise
from deployments.services import (
    Draft,
    deployment_apply,
    deployment_delete,
    deployments_reconcile,
    model_package_register,
)
from deployments.states import transition
from tests.deployments.faults import Faults


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def _in_service(world: SimpleNamespace, package: Any, run_worker: Any, capture: Any) -> Deployment:
    """A Silo real-time endpoint of tenant a, created in the emulator by the worker."""
    tenant = world.tenant_a
    draft = Draft(name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant))
    with capture(execute=True):
        deployment = deployment_apply(actor=world.operator, draft=draft)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    return deployment


def _endpoints(aws: Any, deployment: Deployment) -> list[str]:
    listed = aws.sagemaker.list_endpoints(NameContains=deployment.aws_name)["Endpoints"]
    return [endpoint["EndpointName"] for endpoint in listed]


def test_retry_after_a_failed_delete_deletes_instead_of_creating_again(
    operator_client: Any,
    world: SimpleNamespace,
    aws: Any,
    faults: Faults,
    package: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    deployment = _in_service(world, package, run_worker, capture)
    faults.add("DeleteEndpoint", "denied")  # the worker's role may not delete endpoints (yet)
    with capture(execute=True):
        operator_client.post(reverse("deployment_delete", args=[deployment.pk]))
    run_worker()
    deployment.refresh_from_db()
    assert (deployment.status, deployment.desired) == (Status.FAILED, Desired.ABSENT)

    page = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert "Retry the delete" in page
    assert "not authorized to perform: sagemaker:DeleteEndpoint" in page
    assert reverse("deployment_edit", args=[deployment.pk]) not in page  # nothing to change any more
    assert reverse("deployment_cancel", args=[deployment.pk]) not in page

    with capture(execute=True):
        response = operator_client.post(reverse("deployment_retry", args=[deployment.pk]), follow=True)
    assert "A: retrying the delete." in response.content.decode()
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.DELETED, deployment.last_error
    assert _endpoints(aws, deployment) == []
    statuses = deployment.events.filter(action="Status").values_list("resource", flat=True)
    assert "failed → pending" not in list(statuses)  # it never went back to creating


def test_reconcile_resumes_a_delete_that_an_outage_cut_short(
    world: SimpleNamespace,
    aws: Any,
    faults: Faults,
    package: Any,
    settings: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    deployment = _in_service(world, package, run_worker, capture)
    settings.DEPLOYMENT_RETRY_FOR_SECONDS = 0  # give up at the first transient error
    faults.add("DeleteEndpoint", "5xx")
    with capture(execute=True):
        deployment_delete(actor=world.operator, deployment=deployment)
    run_worker()
    deployment.refresh_from_db()
    assert (deployment.status, deployment.failed_transient) == (Status.FAILED, True)

    with capture(execute=True):
        report = deployments_reconcile()  # AWS answers again
    assert report.resumed == [deployment.pk]
    deployment.refresh_from_db()
    assert deployment.status == Status.DELETING
    assert deployment.events.filter(error="AWS answers again: reconcile retries the delete.").exists()
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.DELETED
    assert _endpoints(aws, deployment) == []


def _deployment(world: SimpleNamespace, status: str, **fields: Any) -> Deployment:
    return Deployment.objects.create(
        tenant=world.tenant_a,
        name="alpha-rt",
        kind=Kind.REALTIME,
        isolation="silo",
        aws_name="sa-alpha-rt",
        settings=settings_normalise(Kind.REALTIME, {}),
        status=status,
        **fields,
    )


@pytest.mark.parametrize(
    ("status", "fields", "offered"),
    [
        (Status.PENDING, {}, True),  # waiting for its first creation
        (Status.CREATING, {"model_name": "sa-alpha-rt-g1"}, True),
        # A change to a live endpoint waits for a worker: cancelling it would delete what serves.
        (Status.PENDING, {"live_model_name": "sa-alpha-rt-g1", "generation": 2}, False),
        (Status.IN_SERVICE, {"live_model_name": "sa-alpha-rt-g1"}, False),
        (Status.FAILED, {"desired": Desired.ABSENT, "last_error": "AccessDenied"}, False),
        (Status.DELETING, {"desired": Desired.ABSENT}, False),
    ],
)
def test_cancel_is_offered_only_where_a_creation_can_be_cancelled(
    operator_client: Any,
    world: SimpleNamespace,
    django_capture_on_commit_callbacks: Any,
    status: str,
    fields: dict[str, Any],
    offered: bool,
) -> None:
    deployment = _deployment(world, status, **fields)
    url = reverse("deployment_cancel", args=[deployment.pk])
    page = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert (url in page) == offered
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(url, follow=True)
    deployment.refresh_from_db()
    if offered:
        assert (deployment.status, deployment.desired) == (Status.DELETING, Desired.ABSENT)
        assert "alpha-rt: cancelled." in response.content.decode()
    else:
        assert deployment.status == status
        assert "there is nothing to cancel here" in response.content.decode()


def test_a_deployment_whose_delete_failed_cannot_be_changed_or_joined(
    operator_client: Any, world: SimpleNamespace
) -> None:
    package = model_package_register(
        actor=None,
        tenant=world.tenant_a,
        framework="xgboost",
        version="3.0-5",
        model_data_url="s3://saasadmin-tests/models/alpha/model.tar.gz",
    )
    deployment = _deployment(
        world, Status.FAILED, desired=Desired.ABSENT, live_model_name="sa-alpha-rt-g1", model_package=package
    )
    response = operator_client.get(reverse("deployment_edit", args=[deployment.pk]), follow=True)
    assert "A deleted deployment cannot change" in response.content.decode()
    with pytest.raises(ValidationError, match="create a new one instead"):
        deployment_apply(actor=world.operator, draft=Draft.of(deployment), deployment=deployment)
    with pytest.raises(ValueError, match="being deleted cannot become pending"):
        transition(deployment, Status.PENDING)
    assert Deployment.objects.get(pk=deployment.pk).status == Status.FAILED


def test_a_failed_create_still_retries_its_create(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    deployment = _deployment(world, Status.FAILED, last_error="Could not find model data")
    page = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert "Retry the delete" not in page
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(reverse("deployment_retry", args=[deployment.pk]), follow=True)
    assert "alpha-rt: retrying where it stopped." in response.content.decode()
    deployment.refresh_from_db()
    assert (deployment.status, deployment.desired) == (Status.PENDING, Desired.PRESENT)


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_rows_being_deleted_and_failed_deletes_as_desired_absent() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("deployments", "0004_member_pending_target")])
    apps = executor.loader.project_state([("deployments", "0004_member_pending_target")]).apps
    old = apps.get_model("deployments", "Deployment")
    event = apps.get_model("deployments", "DeploymentEvent")
    rows = {}
    for name, status, last_move in [
        ("deleting", "deleting", "in_service → deleting"),
        ("deleted", "deleted", "deleting → deleted"),
        ("delete-failed", "failed", "deleting → failed"),
        ("create-failed", "failed", "creating → failed"),
        ("serving", "in_service", "creating → in_service"),
    ]:
        row = old.objects.create(
            name=name, kind="realtime", isolation="silo", aws_name=f"sa-{name}", status=status
        )
        event.objects.create(deployment=row, action="Status", resource=last_move, outcome=status)
        rows[name] = row.pk
    # An older failed delete, then a create that failed since: the last move is what counts.
    recreated = old.objects.get(pk=rows["create-failed"])
    for move in ("deleting → failed", "creating → failed"):
        event.objects.create(deployment=recreated, action="Status", resource=move, outcome="failed")
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("deployments", "0005_deployment_desired")])
        desired = dict(Deployment.objects.values_list("name", "desired"))
        assert desired == {
            "deleting": "absent",
            "deleted": "absent",
            "delete-failed": "absent",
            "create-failed": "present",
            "serving": "present",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
