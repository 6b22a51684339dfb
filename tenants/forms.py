"""Forms for tenants and their users. They validate; services write."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils import timezone

from tenants.models import RESERVED_SLUGS, Tenant, Tier
from tenants.roles import Role
from tenants.services import email_taken

User = get_user_model()


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "slug", "isolation", "tier", "plan_price", "currency", "contact_email"]
        help_texts = {
            "slug": "Lowercase letters, digits and hyphens, up to 40. Used in S3 keys and SageMaker names; "
            "it cannot change once resources exist.",
            "isolation": "Silo: dedicated resources. Bridge: shared infrastructure, own model. "
            "Pool: shared infrastructure and model.",
        }
        widgets = {"slug": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})}

    def __init__(self, *args: Any, locks: dict[str, str] | None = None, **kwargs: Any) -> None:
        """`locks`: fields that cannot change now → why (tenants.services.tenant_identity_locks).

        A disabled field keeps the saved value whatever is posted, and says why in place of its help.
        """
        super().__init__(*args, **kwargs)
        for name, why in (locks or {}).items():
            self.fields[name].disabled = True
            self.fields[name].help_text = why

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(f"“{slug}” is reserved; choose another slug.")
        return slug

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the tenant a name.")
        return name


class OnboardForm(TenantForm):
    admin_email = forms.EmailField(
        required=False,
        label="First tenant admin (email)",
        help_text="Optional. They get an invitation link to choose a password.",
    )

    def clean_admin_email(self) -> str:
        email = self.cleaned_data.get("admin_email", "").strip().lower()
        if email and email_taken(email):
            raise forms.ValidationError("A user with this email already exists.")
        return email


class ReasonForm(forms.Form):
    """Why a tenant's status changes; subclasses may check the change against `tenant`."""

    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit log.",
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant


class OffboardForm(ReasonForm):
    confirm_slug = forms.CharField(label="Type the tenant's slug to confirm", max_length=40)

    def clean_confirm_slug(self) -> str:
        value = self.cleaned_data["confirm_slug"].strip()
        if value != self.tenant.slug:
            raise forms.ValidationError(f"Type “{self.tenant.slug}” exactly to confirm.")
        return value


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(
        choices=[(Role.TENANT_VIEWER.value, "Viewer"), (Role.TENANT_ADMIN.value, "Admin (manages users)")]
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if email_taken(email):
            raise forms.ValidationError("A user with this email already exists.")
        return email


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            try:
                password_validation.validate_password(p1, User(username=self.email, email=self.email))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What will use it, e.g. “nightly scoring job”: tokens are revoked by name.",
    )
    expires_on = forms.DateField(
        label="Valid through",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day (UTC) the token works. Leave empty for a token that works until revoked.",
    )

    def clean_expires_on(self) -> date | None:
        value = self.cleaned_data.get("expires_on")
        if value is not None and value < timezone.now().date():
            raise forms.ValidationError("Choose today or a later day, or leave it empty.")
        return value

    def expires_at(self) -> datetime | None:
        """The end of the chosen day (UTC): the first moment the token no longer works."""
        day = self.cleaned_data.get("expires_on")
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) if day else None


class RateLimitsForm(forms.Form):
    """Requests per second and burst of every tier: fields `<tier>_rate` and `<tier>_burst`."""

    def __init__(self, *args: Any, current: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for tier, label in Tier.choices:
            limit = current[tier]
            self.fields[f"{tier}_rate"] = forms.DecimalField(
                label=f"{label}: requests per second", min_value=Decimal("0.01"), max_value=Decimal("100000"),
                decimal_places=2, initial=limit.requests_per_second,
            )  # fmt: skip
            self.fields[f"{tier}_burst"] = forms.IntegerField(
                label=f"{label}: burst", min_value=1, max_value=1_000_000, initial=limit.burst,
                help_text="Requests a tenant may send at once before the rate applies.",
            )  # fmt: skip

    def tiers(self) -> list[dict[str, Any]]:
        """Per tier: its label and its two bound fields, for the page's table."""
        return [
            {"tier": tier, "label": label, "rate": self[f"{tier}_rate"], "burst": self[f"{tier}_burst"]}
            for tier, label in Tier.choices
        ]

    def limits(self) -> dict[str, tuple[Decimal, int]]:
        data = self.cleaned_data
        return {tier: (data[f"{tier}_rate"], data[f"{tier}_burst"]) for tier in Tier.values}
