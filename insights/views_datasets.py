"""A tenant's data page: the files of its input area (upload, delete), its batch schedules with "Run now",
its latest runs; operators can point the tenant at an existing S3 prefix instead."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments import conf, resources, selectors_runs, services
from deployments.aws import AwsError
from deployments.forms import service_error_show
from deployments.models import DatasetFile
from deployments.services.datasets import dataset_expectation
from deployments.uploads import upload_limit
from insights.forms import DatasetUploadForm, InputAreaForm
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires, user_can
from tenants.models import Tenant


def _page(request: HttpRequest, tenant: Tenant, **forms: Any) -> HttpResponse:
    expectation = dataset_expectation(tenant).describe()
    try:
        files, listing_error = services.input_objects(tenant), ""
    except AwsError as exc:
        files, listing_error = [], f"The input area cannot be listed right now ({exc.message})."
    prefix = resources.input_prefix(tenant)
    context = {
        "tenant": tenant,
        "files": files,
        "listing_error": listing_error,
        "prefix": prefix,
        "external": prefix != resources.default_input_prefix(tenant),
        "expectation": expectation,
        "schedules": selectors_runs.batch_schedules(user=request.user, tenant=tenant),
        "runs": selectors_runs.tenant_runs(user=request.user, tenant=tenant),
        "can_manage": user_can(request.user, "datasets.manage"),
        "can_point": user_can(request.user, "deployments.manage"),
        "upload_form": forms.get("upload_form") or DatasetUploadForm(expectation=expectation),
        "area_form": forms.get("area_form") or InputAreaForm(initial={"s3_prefix": prefix}),
        "limit": conf.dataset_max_bytes(),
    }
    return render(request, "insights/datasets.html", context)


@requires("datasets.view")
def tenant_datasets(request: HttpRequest, tenant_id: str) -> HttpResponse:
    return _page(request, get_tenant_or_404(request.user, tenant_id))


@requires("datasets.manage")
@require_POST
@upload_limit(conf.dataset_max_bytes)
@submit_once
def dataset_upload(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = DatasetUploadForm(request.POST, request.FILES, expectation=dataset_expectation(tenant).describe())
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            item = services.dataset_upload(
                actor=request.user, tenant=tenant, name=upload.name, fileobj=upload
            )
        except ValidationError as exc:
            service_error_show(form, exc, "file")
        else:
            messages.success(
                request, f"{item.name} is in the input area: {item.rows:,} rows, ready for the next run."
            )
            return redirect("tenant_datasets", tenant_id=tenant.pk)
    return _page(request, tenant, upload_form=form)


@requires("datasets.manage")
@require_POST
@submit_once
def dataset_delete(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    uri = request.POST.get("uri", "")
    try:
        services.dataset_delete(actor=request.user, tenant=tenant, uri=uri)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{uri.rsplit('/', 1)[-1]} was deleted from the input area.")
    return redirect("tenant_datasets", tenant_id=tenant.pk)


@requires("deployments.manage")
@require_POST
@submit_once
def input_area_point(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = InputAreaForm(request.POST)
    if form.is_valid():
        try:
            area = services.input_area_point(
                actor=request.user, tenant=tenant, prefix=form.cleaned_data["s3_prefix"]
            )
        except ValidationError as exc:
            service_error_show(form, exc, "s3_prefix")
        else:
            where = area.prefix if area else "its own input area"
            messages.success(request, f"{tenant.name}'s runs now read {where}.")
            return redirect("tenant_datasets", tenant_id=tenant.pk)
    return _page(request, tenant, area_form=form)


def tenant_datasets_section(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The tenant page's data block: files uploaded and the latest run (from the database: no S3 call)."""
    latest = selectors_runs.tenant_runs(user=request.user, tenant=tenant, limit=1)
    return {
        "tenant": tenant,
        "uploads": DatasetFile.objects.for_tenant(tenant).count(),
        "run": latest[0] if latest else None,
    }
