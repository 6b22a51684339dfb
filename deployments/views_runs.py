"""A batch run's page (files, progress, timeline; polled by htmx while it moves) and what people do to
runs: run now, stop, retry. Tenant members reach their own tenant's runs only (404 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from deployments import selectors_runs, services
from deployments.models import Deployment, Kind, TransformRun
from deployments.queueing import enqueues_watched
from deployments.views import _tell
from saasadmin.submissions import submit_once
from tenants.access import get_scoped_or_404, get_tenant_or_404, requires

FILES_PER_PAGE = 100  # a run over thousands of files lists them a page at a time


def _run_context(request: HttpRequest, tenant_id: str, run_id: int) -> dict[str, Any]:
    tenant = get_tenant_or_404(request.user, tenant_id)
    run = selectors_runs.transform_run_get(user=request.user, tenant=tenant, run_id=run_id)
    files = Paginator(selectors_runs.run_files(run), FILES_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "tenant": tenant,
        "run": run,
        "progress": selectors_runs.run_progress(run),
        "files": files.object_list,
        "files_page": files,
        "timeline": selectors_runs.run_timeline(run),
        "retries": list(run.retries.order_by("sequence")),
    }


@requires("datasets.view")
def transform_run_detail(request: HttpRequest, tenant_id: str, run_id: int) -> HttpResponse:
    """The run page; htmx polls it while the run moves and swaps in its body (no layout around it)."""
    context = _run_context(request, tenant_id, run_id)
    if getattr(request, "htmx", False):
        context["base_template"] = "_fragment.html"
    return render(request, "deployments/run.html", context)


def _run_act(
    request: HttpRequest,
    tenant_id: str,
    run_id: int,
    action: Callable[[TransformRun], tuple[str, TransformRun]],
) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    run = selectors_runs.transform_run_get(user=request.user, tenant=tenant, run_id=run_id)
    try:
        with enqueues_watched() as enqueues:
            done, shown = action(run)
        _tell(request, done, enqueues)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        shown = run
    return redirect("transform_run_detail", tenant_id=tenant.pk, run_id=shown.pk)


@requires("datasets.manage")
@require_POST
@submit_once
def transform_run_stop(request: HttpRequest, tenant_id: str, run_id: int) -> HttpResponse:
    def stop(run: TransformRun) -> tuple[str, TransformRun]:
        services.transform_run_stop(actor=request.user, run=run)
        return f"{run.label} is stopping: files transformed so far keep their results.", run

    return _run_act(request, tenant_id, run_id, stop)


@requires("datasets.manage")
@require_POST
@submit_once
def transform_run_retry(request: HttpRequest, tenant_id: str, run_id: int) -> HttpResponse:
    def retry(run: TransformRun) -> tuple[str, TransformRun]:
        again = services.transform_run_retry(actor=request.user, run=run)
        return f"{again.label} runs the failed files of {run.label} again.", again

    return _run_act(request, tenant_id, run_id, retry)


@requires("datasets.manage")
@require_POST
@submit_once
def transform_run_now(request: HttpRequest, tenant_id: str, deployment_id: int) -> HttpResponse:
    """Run now, from the tenant's data page: a run of one of its batch deployments, outside its schedule."""
    tenant = get_tenant_or_404(request.user, tenant_id)
    deployment: Deployment = get_scoped_or_404(
        Deployment.objects.filter(tenant=tenant, kind=Kind.BATCH), request.user, pk=deployment_id
    )
    try:
        with enqueues_watched() as enqueues:
            run = services.transform_run_now(actor=request.user, deployment=deployment)
        _tell(request, f"{run.label} of {deployment.name} started.", enqueues)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return redirect(back)
        return redirect("tenant_detail", tenant_id=tenant.pk)
    return redirect("transform_run_detail", tenant_id=tenant.pk, run_id=run.pk)
