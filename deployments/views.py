"""Deployment pages: the fleet, one deployment (live progress, timeline), create/change with a plan first,
delete, retry, members joining and leaving, batch runs. Thin: fetch through selectors, call a service."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from deployments import resources, selectors, services
from deployments.forms import DeploymentForm, MemberChangeForm, MemberJoinForm, service_error_show
from deployments.health import queue_health
from deployments.models import Deployment, Kind, MemberState, Status
from deployments.queueing import EnqueueWatch, enqueues_watched
from deployments.rules import DEFAULT_KINDS, KIND_RULES, SHARED
from deployments.schedules import schedule_text
from deployments.states import ACTIVE
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires, role_of
from tenants.roles import TENANT_ROLES

PAGE_SIZE = 50
QUEUE_LOST = (
    "The work is saved, but the job queue is not answering: it starts when the queue is back "
    "(reconcile picks it up)."
)


def _tell(request: HttpRequest, done: str, enqueues: EnqueueWatch, *, then: str = "") -> None:
    """Say what was done, and the truth about what follows: workers have it, or it waits for the queue."""
    if enqueues.lost:
        messages.warning(request, f"{done} {QUEUE_LOST}")
    else:
        messages.success(request, f"{done} {then}".rstrip())


@requires("deployments.view")
def fleet(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "") if request.GET.get("kind") in Kind.values else ""
    status = request.GET.get("status", "") if request.GET.get("status") in Status.values else ""
    page = selectors.deployment_page(
        user=request.user, kind=kind, status=status, number=request.GET.get("page"), per_page=PAGE_SIZE
    )
    context = {
        "page": page,
        "kind": kind,
        "status": status,
        "kinds": Kind.choices,
        "statuses": Status.choices,
        "counts": selectors.deployment_status_counts(user=request.user, kind=kind),
        "moving": any(d.status in ACTIVE for d in page.object_list),
    }
    if getattr(request, "htmx", False):
        return render(request, "deployments/_fleet_table.html", context)
    context["health"] = queue_health()
    return render(request, "deployments/fleet.html", context)


def _detail_context(request: HttpRequest, deployment_id: int) -> dict[str, Any]:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    return {
        "deployment": deployment,
        "progress": selectors.deployment_progress(deployment=deployment),
        "timeline": selectors.deployment_timeline(deployment=deployment),
        "cost": selectors.deployment_monthly_cost(deployment=deployment),
        "runs": selectors.transform_run_list(user=request.user, deployment=deployment)[:20],
        "setting_labels": {s.name: s.label for s in KIND_RULES[deployment.kind].settings},
        "schedule_text": schedule_text(resources.values(deployment)) if deployment.kind == Kind.BATCH else "",
    }


@requires("deployments.view")
def deployment_detail(request: HttpRequest, deployment_id: int) -> HttpResponse:
    return render(request, "deployments/detail.html", _detail_context(request, deployment_id))


@requires("deployments.view")
def deployment_live(request: HttpRequest, deployment_id: int) -> HttpResponse:
    """What htmx polls while the deployment moves: the whole page body, without the layout around it.

    Everything on the page follows the state (actions, desired state, AWS resources, cost, members,
    runs), so the poll re-renders all of it rather than a status box that goes stale beside the rest.
    """
    context = {**_detail_context(request, deployment_id), "base_template": "_fragment.html"}
    return render(request, "deployments/detail.html", context)


def _plan_or_apply(request: HttpRequest, form: DeploymentForm, deployment: Any = None) -> HttpResponse | None:
    """POST with action=plan shows the plan; action=apply saves the draft. None: show the form again."""
    if not form.is_valid():
        return None
    draft = form.draft()
    if request.POST.get("action") == "edit":
        return None
    if request.POST.get("action") != "apply":
        plan = services.deployment_plan(draft=draft, deployment=deployment)
        context = {"form": form, "plan": plan, "draft": draft, "deployment": deployment}
        return render(request, "deployments/plan.html", context)
    try:
        with enqueues_watched() as enqueues:
            saved = services.deployment_apply(actor=request.user, draft=draft, deployment=deployment)
    except ValidationError as exc:
        service_error_show(form, exc)
        return None
    _tell(request, f"{saved.name}: applied.", enqueues, then="Workers are taking it from here.")
    return redirect("deployment_detail", deployment_id=saved.pk)


def _rules_for_script() -> dict[str, Any]:
    """What the form's script needs of the rules table to keep kind, isolation and owner agreeing."""
    kinds = {
        kind: {
            "isolations": sorted(rule.isolations),
            "shared_in": sorted(rule.shared_in),
            "own_models": rule.per_tenant_model == "required",
        }
        for kind, rule in KIND_RULES.items()
    }
    return {"kinds": kinds, "defaults": dict(DEFAULT_KINDS)}


def _form_page(
    request: HttpRequest, form: DeploymentForm, title: str, deployment: Any = None
) -> HttpResponse:
    tenant = form.chosen_tenant() if deployment is None else deployment.tenant
    upload = {"next": request.get_full_path(), **({"tenant": tenant.pk} if tenant else {})}
    joining = tenant if deployment is None and tenant and tenant.isolation in SHARED else None
    context = {
        "form": form,
        "title": title,
        "deployment": deployment,
        "kind_fields_json": json.dumps({kind: DeploymentForm.fields_for_kind(kind) for kind in Kind.values}),
        "rules_json": json.dumps(_rules_for_script()),
        "layout": form.layout(),
        "upload_url": f"{reverse('model_package_upload')}?{urlencode(upload)}",
        "join_tenant": joining,
        "joinable": joining and selectors.shared_deployments_joinable(user=request.user, tenant=joining),
    }
    return render(request, "deployments/form.html", context)


@requires("deployments.manage")
@submit_once
def deployment_new(request: HttpRequest) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, request.GET["tenant"]) if request.GET.get("tenant") else None
    kind = request.GET.get("kind") if request.GET.get("kind") in Kind.values else None
    form = DeploymentForm(request.POST or None, initial=DeploymentForm.initial_for(tenant, kind))
    if request.method == "POST":
        response = _plan_or_apply(request, form)
        if response is not None:
            return response
    return _form_page(request, form, "New deployment")


@requires("deployments.manage")
@submit_once
def deployment_edit(request: HttpRequest, deployment_id: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    if deployment.is_removed:
        messages.error(request, "A deleted deployment cannot change; create a new one.")
        return redirect("deployment_detail", deployment_id=deployment.pk)
    form = DeploymentForm(request.POST or None, deployment=deployment)
    if request.method == "POST":
        response = _plan_or_apply(request, form, deployment)
        if response is not None:
            return response
    return _form_page(request, form, f"Change {deployment.name}", deployment)


@requires("deployments.manage")
@submit_once
def deployment_delete(request: HttpRequest, deployment_id: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    if request.method == "POST":
        with enqueues_watched() as enqueues:
            services.deployment_delete(actor=request.user, deployment=deployment)
        _tell(request, f"{deployment.name}: deleting its AWS resources.", enqueues)
        return redirect("deployment_detail", deployment_id=deployment.pk)
    plan = services.deletion_plan(deployment=deployment)
    return render(request, "deployments/delete.html", {"deployment": deployment, "plan": plan})


def _act(request: HttpRequest, deployment_id: int, action: Callable[[Deployment], str]) -> HttpResponse:
    """Run one POST action on a deployment: its message on success, the refusal's otherwise."""
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    try:
        with enqueues_watched() as enqueues:
            done = action(deployment)
        _tell(request, done, enqueues)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("deployment_detail", deployment_id=deployment.pk)


@requires("deployments.manage")
@require_POST
@submit_once
def deployment_retry(request: HttpRequest, deployment_id: int) -> HttpResponse:
    def retry(deployment: Deployment) -> str:
        services.deployment_retry(actor=request.user, deployment=deployment)
        if deployment.is_removed:
            return f"{deployment.name}: retrying the delete."
        return f"{deployment.name}: retrying where it stopped."

    return _act(request, deployment_id, retry)


@requires("deployments.manage")
@require_POST
@submit_once
def deployment_cancel(request: HttpRequest, deployment_id: int) -> HttpResponse:
    """Cancel a deployment whose first creation is still on its way (Deployment.is_cancellable)."""

    def cancel(deployment: Deployment) -> str:
        if not deployment.is_cancellable:
            raise ValidationError(
                "Only a deployment still being created can be cancelled: there is nothing to cancel here. "
                "Change it back, or delete it."
            )
        services.deployment_delete(actor=request.user, deployment=deployment)
        return f"{deployment.name}: cancelled."

    return _act(request, deployment_id, cancel)


@requires("deployments.manage")
@require_POST
@submit_once
def transform_run_start(request: HttpRequest, deployment_id: int) -> HttpResponse:
    def start(deployment: Deployment) -> str:
        run = services.transform_run_now(actor=request.user, deployment=deployment)
        return f"{run.label} ({run.job_name}) started."

    return _act(request, deployment_id, start)


@requires("deployments.manage")
@submit_once
def member_join(request: HttpRequest, deployment_id: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    # Links that offer a tenant this endpoint (the deployment form's "join instead") arrive with it chosen.
    initial = {"tenant": request.GET["tenant"]} if request.GET.get("tenant") else {}
    form = MemberJoinForm(request.POST or None, deployment=deployment, initial=initial)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "apply":
            data = form.cleaned_data
            try:
                with enqueues_watched() as enqueues:
                    services.deployment_member_join(
                        actor=request.user,
                        deployment=deployment,
                        tenant=data["tenant"],
                        model_package=data["model_package"],
                    )
            except ValidationError as exc:
                service_error_show(form, exc)
            else:
                _tell(request, f"{data['tenant']} is joining {deployment.name}.", enqueues)
                return redirect("deployment_detail", deployment_id=deployment.pk)
        else:
            context = {"form": form, "plan": form.plan, "deployment": deployment}
            return render(request, "deployments/member_plan.html", context)
    return render(request, "deployments/member_form.html", {"form": form, "deployment": deployment})


@requires("deployments.manage")
@submit_once
def member_leave(request: HttpRequest, deployment_id: int, tenant_id: str) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    tenant = get_tenant_or_404(request.user, tenant_id)
    member = get_object_or_404(deployment.members.all(), tenant=tenant)
    if request.method == "POST":
        try:
            with enqueues_watched() as enqueues:
                services.deployment_member_leave(actor=request.user, deployment=deployment, tenant=tenant)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            _tell(request, f"{tenant} is leaving {deployment.name}.", enqueues)
        return redirect("deployment_detail", deployment_id=deployment.pk)
    deletes = services.member_leave_deletes(deployment=deployment)
    context = {"deployment": deployment, "member": member, "deletes": deletes}
    return render(request, "deployments/member_leave.html", context)


@requires("deployments.manage")
@submit_once
def member_change(request: HttpRequest, deployment_id: int, tenant_id: str) -> HttpResponse:
    """Serve a member from another of its model packages: the plan first, then apply."""
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    tenant = get_tenant_or_404(request.user, tenant_id)
    member = get_object_or_404(deployment.members.exclude(state=MemberState.LEAVING), tenant=tenant)
    form = MemberChangeForm(request.POST or None, deployment=deployment, member=member)
    context: dict[str, Any] = {"form": form, "deployment": deployment, "member": member}
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") != "apply":
            return render(request, "deployments/member_change.html", {**context, "plan": form.plan})
        package = form.cleaned_data["model_package"]
        try:
            with enqueues_watched() as enqueues:
                services.deployment_member_change(
                    actor=request.user, deployment=deployment, tenant=tenant, model_package=package
                )
        except ValidationError as exc:
            service_error_show(form, exc)
        else:
            _tell(request, f"{tenant} moves to {package} on {deployment.name}.", enqueues)
            return redirect("deployment_detail", deployment_id=deployment.pk)
    return render(request, "deployments/member_change.html", context)


def tenant_section_context(request: HttpRequest, tenant: Any) -> dict[str, Any]:
    """The tenant page's deployments block: what serves this tenant, dedicated and shared."""
    return {
        "tenant": tenant,
        "deployments": selectors.deployment_list(user=request.user, tenant=tenant)[:20],
        "memberships": selectors.tenant_memberships(user=request.user, tenant=tenant),
    }


def after_onboarding_url(tenant: Any) -> str:
    """Onboarding goes on with the choice of how the tenant's model is deployed, and its plan."""
    return f"{reverse('deployment_new')}?tenant={tenant.pk}"


def tenant_serving_context(request: HttpRequest, tenant: Any) -> dict[str, Any] | None:
    """For the tenant's own members: how their model is served, without AWS internals."""
    if role_of(request.user) not in TENANT_ROLES:
        return None  # vendor staff see the full deployments block instead
    return {
        "deployments": selectors.deployment_list(user=request.user, tenant=tenant).exclude(
            status=Status.DELETED
        ),
        "memberships": selectors.tenant_memberships(user=request.user, tenant=tenant),
    }
