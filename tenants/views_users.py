"""A tenant's users: list, invite, remove; accepting an invitation; the vendor-wide audit log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from saasadmin.submissions import submit_once
from tenants import services
from tenants.access import get_tenant_or_404, public, requires, user_can
from tenants.audit_text import audit_lines
from tenants.auth_backend import PATH as MEMBERSHIP_BACKEND
from tenants.forms import AcceptInvitationForm, InviteForm
from tenants.models import AuditEvent, Invitation, Membership

User = get_user_model()


@requires("tenant_users.manage")
@submit_once
def tenant_users(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(actor=request.user, tenant=tenant, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            link = _invitation_link(request, invitation)
            messages.success(request, f"Invitation created. Send {invitation.email} this link: {link}")
            return redirect("tenant_users", tenant_id=tenant.pk)
    pending = tenant.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    context = {
        "tenant": tenant,
        "form": form,
        "members": Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username"),
        # Each pending invitation with its link, so that it can be copied again (or renewed once expired).
        "invitations": [
            {
                "invitation": each,
                "link": _invitation_link(request, each),
                "open": services.invitation_is_open(each),
            }
            for each in pending.select_related("tenant")
        ],
    }
    return render(request, "tenants/tenant_users.html", context)


def _invitation_link(request: HttpRequest, invitation: Invitation) -> str:
    return request.build_absolute_uri(reverse("invitation_accept", args=[invitation.token]))


@requires("tenant_users.manage")
@require_POST
@submit_once
def invitation_renew(request: HttpRequest, tenant_id: str, invitation_id: str) -> HttpResponse:
    """Send a pending invitation again: a new link for another week; the old one stops working."""
    tenant = get_tenant_or_404(request.user, tenant_id)
    invitation = get_object_or_404(
        Invitation, tenant=tenant, pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True
    )
    try:
        renewed = services.invitation_renew(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        link = _invitation_link(request, renewed)
        messages.success(request, f"New link for {renewed.email} (the old one no longer works): {link}")
    return redirect("tenant_users", tenant_id=tenant.pk)


@requires("tenant_users.manage")
@submit_once
def tenant_user_remove(request: HttpRequest, tenant_id: str, user_id: int) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    membership = get_object_or_404(Membership.objects.select_related("user"), tenant=tenant, user_id=user_id)
    if membership.user_id == request.user.pk:
        messages.error(request, "You cannot remove yourself; ask another admin or an operator.")
        return redirect("tenant_users", tenant_id=tenant.pk)
    if request.method == "POST":
        services.tenant_user_remove(actor=request.user, tenant=tenant, user=membership.user)
        messages.success(request, f"{membership.user.get_username()} was removed and can no longer sign in.")
        return redirect("tenant_users", tenant_id=tenant.pk)
    return render(request, "tenants/tenant_user_remove.html", {"tenant": tenant, "membership": membership})


@requires("tenant_users.manage")
@submit_once
def invitation_revoke(request: HttpRequest, tenant_id: str, invitation_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    invitation = get_object_or_404(Invitation, tenant=tenant, pk=invitation_id, accepted_at__isnull=True)
    if request.method == "POST":
        services.invitation_revoke(actor=request.user, invitation=invitation)
        messages.success(request, f"The invitation for {invitation.email} no longer works.")
        return redirect("tenant_users", tenant_id=tenant.pk)
    return render(request, "tenants/invitation_revoke.html", {"tenant": tenant, "invitation": invitation})


@public
@submit_once
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = Invitation.objects.select_related("tenant").filter(token=token).first()
    if invitation is None:
        raise Http404("No such invitation")
    if not services.invitation_is_open(invitation):
        return render(request, "tenants/invitation_closed.html", {"invitation": invitation}, status=410)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(invitation=invitation, password=form.cleaned_data["password1"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend=MEMBERSHIP_BACKEND)
            messages.success(request, f"Welcome to {invitation.tenant.name}.")
            return redirect("home")
    return render(request, "tenants/invitation_accept.html", {"invitation": invitation, "form": form})


@requires("audit.view_all")
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.select_related("actor", "tenant")
    action = request.GET.get("action", "").strip()[:60]
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    lines = audit_lines(page.object_list, internals=user_can(request.user, "deployments.view"))
    return render(request, "tenants/audit_log.html", {"page": page, "lines": lines, "action": action})
