"""Model packages (list, upload) and the advisor (needs in, ranked kinds with monthly costs out)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from deployments import catalogue, selectors, services
from deployments.advisor import Needs, advise, relaxations
from deployments.forms import service_error_show
from deployments.forms_catalogue import AdvisorForm, ModelPackageUploadForm
from deployments.models import Kind
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires, user_can

# The comparison the advisor page opens with: many tenants, per-tenant endpoints vs shared ones.
FLEET_EXAMPLE_TENANTS = 500
FLEET_EXAMPLE_NEEDS = Needs(
    tenants=FLEET_EXAMPLE_TENANTS, peak_rps=0.2, requests_per_day=2000, cold_starts_ok=True, inference_ms=50
)


@requires("deployments.view")
def model_packages(request: HttpRequest) -> HttpResponse:
    packages = selectors.model_package_list(user=request.user)
    form = ModelPackageUploadForm() if user_can(request.user, "deployments.manage") else None
    return render(request, "deployments/model_packages.html", {"packages": packages, "form": form})


def _next_url(request: HttpRequest) -> str:
    """Where to go back to after an upload (the deployment form it came from), if it is on this site."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure())
    return url if safe else ""


@requires("deployments.manage")
@submit_once
def model_package_upload(request: HttpRequest) -> HttpResponse:
    tenant_id = request.GET.get("tenant")
    initial = {"tenant": get_tenant_or_404(request.user, tenant_id)} if tenant_id else {}
    form = ModelPackageUploadForm(request.POST or None, request.FILES or None, initial=initial)
    back = _next_url(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            package = services.model_package_upload(
                actor=request.user,
                tenant=data["tenant"],
                framework=data["framework"],
                version=data["version"],
                fileobj=data["archive"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            service_error_show(form, exc, "archive")
        else:
            messages.success(request, f"Uploaded {package} to {package.model_data_url}.")
            return redirect(back or "model_packages")
    packages = selectors.model_package_list(user=request.user)
    context = {"packages": packages, "form": form, "next": back}
    return render(request, "deployments/model_packages.html", context)


@requires("deployments.view")
def advisor(request: HttpRequest) -> HttpResponse:
    form = AdvisorForm(request.GET or None)
    results, relax = None, []
    if form.is_bound and form.is_valid():
        needs = form.needs()
        results = advise(needs)
        if not any(advice.valid for advice in results):  # say which single change would let a kind fit
            relax = [
                {"change": r.change, "fits": r.fits, "query": form.query_with(r.values)}
                for r in relaxations(needs)
            ]
    fleet = {
        "tenants": FLEET_EXAMPLE_TENANTS,
        "rows": [
            advice
            for advice in advise(FLEET_EXAMPLE_NEEDS)
            if advice.valid
            and advice.kind in (Kind.REALTIME, Kind.MULTI_MODEL, Kind.MULTI_CONTAINER, Kind.SERVERLESS)
        ],
    }
    context = {
        "form": form,
        "results": results,
        "nothing_fits": results is not None and not any(advice.valid for advice in results),
        "relaxations": relax,
        "fleet": fleet,
        "catalogue": {**catalogue.catalogue(), "region": settings.AWS_REGION},
    }
    return render(request, "deployments/advisor.html", context)
