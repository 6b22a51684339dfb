"""Select widgets whose options carry what the deployment pages' scripts need to keep choices agreeing."""

from __future__ import annotations

from typing import Any

from django import forms


class TenantSelect(forms.Select):
    """Each tenant option carries its isolation model (`data-isolation`) for the page's script."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        tenant = getattr(option["value"], "instance", None)
        if tenant is not None:
            option["attrs"]["data-isolation"] = tenant.isolation
        return option


class PackageSelect(forms.Select):
    """Model packages marked with their owner (`data-tenant`, "shared"); only those the tenant chosen in
    `tenant_field` may use are offered (its own, and shared ones where `shared`), the others start hidden.

    The page's script re-applies this when that tenant changes; the rules refuse the rest regardless.
    """

    def __init__(self, tenant_field: str, *, shared: bool) -> None:
        super().__init__(attrs={"data-tenant-field": tenant_field, "data-shared": "yes" if shared else "no"})
        self.tenant_field, self.shared = tenant_field, shared
        self.tenant_id = ""  # the chosen tenant's pk; set by the form

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        package = getattr(option["value"], "instance", None)
        if package is None:
            return option
        owner = str(package.tenant_id) if package.tenant_id else "shared"
        option["attrs"]["data-tenant"] = owner
        usable = owner == self.tenant_id or (owner == "shared" and self.shared)
        if not usable and not option["selected"]:  # a chosen one stays, for the rules to say why
            option["attrs"].update(disabled=True, hidden=True)
        return option
