from __future__ import annotations

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        """Plug the usage and cost pages into the navigation and the tenant page (tenants imports nothing
        of ours), and teach the audit log the cost and finance actions."""
        from insights import audit_phrases, views, views_cost_pages
        from insights.finance import audit_phrases as finance_phrases
        from tenants import audit_text, extensions

        audit_text.audit_vocabulary_add(phrases=audit_phrases.PHRASES, fields=audit_phrases.fields())
        audit_text.audit_vocabulary_add(phrases=finance_phrases.PHRASES, fields=finance_phrases.FIELDS)

        if any(item.url_name == "tenant_usage" for item in extensions.NAVIGATION):
            return  # ready() ran already (tests that reload apps)
        usage = extensions.NavItem("API usage", "tenant_usage", "tenants.view", per_tenant=True)
        after = next(i for i, item in enumerate(extensions.NAVIGATION) if item.url_name == "tenant_detail")
        extensions.NAVIGATION.insert(after + 1, usage)
        costs = extensions.NavItem("Costs", "cost_overview", "costs.view")
        after = next(i for i, item in enumerate(extensions.NAVIGATION) if item.url_name == "tenant_list")
        extensions.NAVIGATION.insert(after + 1, costs)
        extensions.TENANT_SECTIONS.append(
            extensions.TenantSection(
                "insights/_tenant_usage.html", "tenants.view", views.tenant_usage_section
            )
        )
        extensions.TENANT_SECTIONS.append(
            extensions.TenantSection(
                "insights/_tenant_cost.html", "costs.view", views_cost_pages.tenant_cost_section
            )
        )
        extensions.TENANT_SECTIONS.append(
            extensions.TenantSection(
                "insights/_tenant_cost.html", "costs.view_own", views_cost_pages.tenant_own_cost_section
            )
        )
