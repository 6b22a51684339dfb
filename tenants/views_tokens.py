"""A tenant's API tokens on its page: list for every reader, create for its admins, revoke for admins and
operators. The secret is shown once, on the page the creation leads to, then forgotten."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from saasadmin.submissions import submit_once
from tenants.access import get_scoped_or_404, get_tenant_or_404, requires, user_can
from tenants.forms import TokenForm
from tenants.models import Tenant, TenantToken
from tenants.rate_limits import tenant_rate_limit
from tenants.tokens import token_create, token_is_active, token_revoke

# The new secret waits in the server-side session for the one page view that shows it.
SHOWN_ONCE = "tenant_token_new_secret"
API_PREDICT_PATH = "/api/v1/predict"


def tokens_section(request: HttpRequest, tenant: Tenant) -> dict[str, Any]:
    """The context of the tenant page's API tokens section."""
    tokens = list(TenantToken.objects.for_tenant(tenant).select_related("created_by"))
    new_secret = _new_secret_pop(request, tenant)
    return {
        "rows": [{"token": token, "active": token_is_active(token)} for token in tokens],
        "can_create": user_can(request.user, "tokens.create") and not tenant.is_leaving,
        "can_revoke": user_can(request.user, "tokens.revoke"),
        "form": TokenForm(),
        "new_secret": new_secret,
        "curl": _curl_line(request, new_secret["secret"] if new_secret else "<your token>"),
        "limit": tenant_rate_limit(tenant),
    }


def _new_secret_pop(request: HttpRequest, tenant: Tenant) -> dict[str, str] | None:
    stashed = request.session.get(SHOWN_ONCE)
    if not stashed or stashed.get("tenant") != str(tenant.pk):
        return None
    del request.session[SHOWN_ONCE]
    return stashed


def _curl_line(request: HttpRequest, secret: str) -> str:
    url = request.build_absolute_uri(API_PREDICT_PATH)
    return (
        f'curl -H "Authorization: Bearer {secret}" -H "Content-Type: text/csv" --data-binary @rows.csv {url}'
    )


@requires("tokens.create")
@submit_once
def tenant_token_create(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = token_create(
                actor=request.user,
                tenant=tenant,
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            request.session[SHOWN_ONCE] = {
                "tenant": str(tenant.pk),
                "name": token.name,
                "secret": secret,
            }
            messages.success(request, f"The API token “{token.name}” was created.")
            return redirect(reverse("tenant_detail", args=[tenant.pk]) + "#api-tokens")
    return render(request, "tenants/token_create.html", {"tenant": tenant, "form": form})


@requires("tokens.revoke")
@submit_once
def tenant_token_revoke(request: HttpRequest, tenant_id: str, token_id: int) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    token = get_scoped_or_404(TenantToken.objects.for_tenant(tenant), request.user, pk=token_id)
    if request.method == "POST":
        try:
            token_revoke(actor=request.user, token=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"The API token “{token.name}” no longer works.")
        return redirect(reverse("tenant_detail", args=[tenant.pk]) + "#api-tokens")
    return render(request, "tenants/token_revoke.html", {"tenant": tenant, "token": token})
