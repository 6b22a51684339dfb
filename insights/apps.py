from __future__ import annotations

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        """Plug the usage page into the navigation and the tenant page (tenants imports nothing of ours)."""
        from insights import audit_phrases, views
        from tenants import audit_text, extensions

        audit_text.audit_vocabulary_add(phrases=audit_phrases.PHRASES, fields=audit_phrases.fields())

        if any(item.url_name == "tenant_usage" for item in extensions.NAVIGATION):
            return  # ready() ran already (tests that reload apps)
        usage = extensions.NavItem("API usage", "tenant_usage", "tenants.view", per_tenant=True)
        after = next(i for i, item in enumerate(extensions.NAVIGATION) if item.url_name == "tenant_detail")
        extensions.NAVIGATION.insert(after + 1, usage)
        extensions.TENANT_SECTIONS.append(
            extensions.TenantSection(
                "insights/_tenant_usage.html", "tenants.view", views.tenant_usage_section
            )
        )
