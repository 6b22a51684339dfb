"""Tenant pages: list, onboarding, detail, edit, status changes. Thin: fetch, validate, call a service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from saasadmin.submissions import submit_once
from tenants import extensions, services
from tenants.access import get_tenant_or_404, membership_of, public, requires, user_can
from tenants.audit_text import AuditLine, audit_lines
from tenants.forms import OffboardForm, OnboardForm, ReasonForm, TenantForm
from tenants.models import TENANT_TRANSITIONS, Isolation, Tenant, TenantStatus
from tenants.roles import TENANT_ROLES
from tenants.selectors import TENANT_SORTS, audit_for_tenant, tenant_list, tenant_status_counts
from tenants.views_tokens import tokens_section

PAGE_SIZE = 25


@requires("account")
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it starts from."""
    membership = membership_of(request.user)
    assert membership is not None  # requires("account") let only users with a role through
    if membership.role in TENANT_ROLES:
        assert membership.tenant is not None  # tenant roles always have a tenant (a model constraint)
        return redirect(
            extensions.tenant_landing_url(membership.tenant)
            or reverse("tenant_detail", kwargs={"tenant_id": membership.tenant_id})
        )
    return redirect("tenant_list")


@public
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@requires("tenants.view_all")
def tenant_list_view(request: HttpRequest) -> HttpResponse:
    params = {
        "q": request.GET.get("q", "").strip()[:100],
        "status": request.GET.get("status", "") if request.GET.get("status") in TenantStatus.values else "",
        "isolation": request.GET.get("isolation", "")
        if request.GET.get("isolation") in Isolation.values
        else "",
        "sort": request.GET.get("sort", "name") if request.GET.get("sort") in TENANT_SORTS else "name",
    }
    tenants = tenant_list(
        user=request.user,
        search=params["q"],
        status=params["status"],
        isolation=params["isolation"],
        sort=params["sort"],
    )
    page = Paginator(tenants, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "params": params,
        "statuses": TenantStatus.choices,
        "isolations": Isolation.choices,
        "status_counts": tenant_status_counts(user=request.user),
        "sorts": TENANT_SORTS,
    }
    template = "tenants/_tenant_table.html" if getattr(request, "htmx", False) else "tenants/tenant_list.html"
    return render(request, template, context)


@requires("tenants.manage")
@submit_once
def tenant_onboard(request: HttpRequest) -> HttpResponse:
    form = OnboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant, invitation = services.tenant_onboard(actor=request.user, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{tenant.name} is onboarding.")
            if invitation:
                link = request.build_absolute_uri(reverse("invitation_accept", args=[invitation.token]))
                messages.info(request, f"Send {invitation.email} this invitation link: {link}")
            next_step = extensions.after_onboarding_redirect(tenant)
            return redirect(next_step or reverse("tenant_detail", args=[tenant.pk]))
    return render(request, "tenants/tenant_form.html", {"form": form, "title": "Onboard a tenant"})


@requires("tenants.view")
def tenant_detail(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    show_audit = user_can(request.user, "tenants.manage") or user_can(request.user, "tenant_users.manage")
    context = {
        "tenant": tenant,
        "members": tenant.memberships.select_related("user").order_by("user__username"),
        "audit_events": _audit_lines(request, tenant) if show_audit else None,
        "can_manage": user_can(request.user, "tenants.manage"),
        # The actions offered are the moves TENANT_TRANSITIONS allows from here, nothing written again.
        "next_statuses": TENANT_TRANSITIONS[tenant.status],
        "can_manage_users": user_can(request.user, "tenant_users.manage"),
        "sections": _sections(request, tenant, extensions.TENANT_SECTIONS),
        "tokens": tokens_section(request, tenant),
    }
    return render(request, "tenants/tenant_detail.html", context)


def _audit_lines(request: HttpRequest, tenant: Tenant) -> list[AuditLine]:
    """The tenant's audit log in sentences; AWS internals only for readers who see deployments."""
    internals = user_can(request.user, "deployments.view")
    return audit_lines(audit_for_tenant(tenant=tenant), internals=internals)


def _sections(
    request: HttpRequest, tenant: Tenant, registered: list[extensions.TenantSection]
) -> list[dict[str, Any]]:
    """The blocks other apps add to a tenant page, for the roles that may see them."""
    sections = []
    for section in registered:
        if user_can(request.user, section.capability):
            context = section.context(request, tenant)
            if context is not None:
                sections.append({"template": section.template, "context": context})
    return sections


@requires("tenants.manage")
@submit_once
def tenant_edit(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = TenantForm(request.POST or None, instance=tenant, locks=services.tenant_identity_locks(tenant))
    if request.method == "POST" and form.is_valid():
        # Validating a ModelForm writes the new values onto its instance: the audit's "before" needs the row.
        fresh = get_tenant_or_404(request.user, tenant_id)
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.tenant_update(actor=request.user, tenant=fresh, **changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("tenant_detail", tenant_id=tenant.pk)
    return render(
        request, "tenants/tenant_form.html", {"form": form, "tenant": tenant, "title": f"Edit {tenant}"}
    )


def _status_change(
    request: HttpRequest, tenant_id: str, to: str, verb: str, form_class: type
) -> HttpResponse:
    """Shared GET-confirm / POST-apply flow of suspend, resume and offboard."""
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = form_class(request.POST or None, tenant=tenant)
    allowed = tenant.can_become(to)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_transition(
                actor=request.user, tenant=tenant, to=to, reason=form.cleaned_data["reason"]
            )
            if to == TenantStatus.OFFBOARDING:
                extensions.offboarding_continue(actor=request.user, tenant=tenant)
                tenant.refresh_from_db()
        except services.TransitionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _done_message(tenant, verb))
        return redirect("tenant_detail", tenant_id=tenant.pk)
    context = {"tenant": tenant, "form": form, "to": to, "verb": verb, "allowed": allowed}
    if to == TenantStatus.OFFBOARDING and allowed:
        context["sections"] = _sections(request, tenant, extensions.OFFBOARDING_SECTIONS)
    return render(request, "tenants/tenant_status_change.html", context)


def _done_message(tenant: Tenant, verb: str) -> str:
    """What the status change did; offboarding usually only starts (resources are removed by workers)."""
    if tenant.status == TenantStatus.OFFBOARDING:
        return (
            f"{tenant.name}: offboarding has started. Its users are disabled; its resources are being "
            "removed, and it becomes Offboarded once nothing is left. This page shows what remains."
        )
    if tenant.status == TenantStatus.OFFBOARDED:
        return f"{tenant.name} is offboarded: nothing of it was left to remove."
    return f"{tenant.name}: {verb} done."


@requires("tenants.manage")
@submit_once
def tenant_suspend(request: HttpRequest, tenant_id: str) -> HttpResponse:
    return _status_change(request, tenant_id, TenantStatus.SUSPENDED, "suspend", ReasonForm)


@requires("tenants.manage")
@submit_once
def tenant_resume(request: HttpRequest, tenant_id: str) -> HttpResponse:
    return _status_change(request, tenant_id, TenantStatus.ACTIVE, "activate", ReasonForm)


@requires("tenants.manage")
@submit_once
def tenant_offboard(request: HttpRequest, tenant_id: str) -> HttpResponse:
    return _status_change(request, tenant_id, TenantStatus.OFFBOARDING, "offboard", OffboardForm)
