from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _ingest_when_run_finished(sender: Any, run: Any, **kwargs: Any) -> None:
    """deployments sends this after the run's end commits (maybe more than once): enqueue ingestion,
    which skips what is loaded already."""
    from insights.tasks import ingest_enqueue

    ingest_enqueue(run.pk, str(run.tenant_id))


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        """Plug insights into deployments' run-finished signal, the navigation and the tenant page
        (tenants and deployments import nothing of ours), and teach the audit log its actions."""
        from deployments.signals import transform_run_finished
        from insights import audit_phrases, views, views_cost_pages, views_dashboard, views_datasets
        from insights.finance import audit_phrases as finance_phrases
        from tenants import audit_text, extensions

        transform_run_finished.connect(_ingest_when_run_finished, dispatch_uid="insights-ingest")
        audit_text.audit_vocabulary_add(phrases=audit_phrases.PHRASES, fields=audit_phrases.fields())
        audit_text.audit_vocabulary_add(phrases=finance_phrases.PHRASES, fields=finance_phrases.FIELDS)
        if any(item.url_name == "tenant_usage" for item in extensions.NAVIGATION):
            return  # ready() ran already (tests that reload apps)
        # A tenant's members see its insights first, then their organisation, its data and its API usage.
        dashboard = extensions.NavItem("Insights", "insights_dashboard", "insights.view", per_tenant=True)
        per_tenant = [
            extensions.NavItem("Data & runs", "tenant_datasets", "datasets.view", per_tenant=True),
            extensions.NavItem("API usage", "tenant_usage", "tenants.view", per_tenant=True),
        ]
        at = next(i for i, item in enumerate(extensions.NAVIGATION) if item.url_name == "tenant_detail")
        extensions.NAVIGATION[at : at + 1] = [dashboard, extensions.NAVIGATION[at], *per_tenant]
        costs = extensions.NavItem("Costs", "cost_overview", "costs.view")
        after = next(i for i, item in enumerate(extensions.NAVIGATION) if item.url_name == "tenant_list")
        extensions.NAVIGATION.insert(after + 1, costs)
        sections = [
            ("insights/_tenant_usage.html", "tenants.view", views.tenant_usage_section),
            ("insights/_tenant_insights.html", "insights.view", views_dashboard.tenant_insights_section),
            ("insights/_tenant_datasets.html", "datasets.view", views_datasets.tenant_datasets_section),
            ("insights/_tenant_cost.html", "costs.view", views_cost_pages.tenant_cost_section),
            ("insights/_tenant_cost.html", "costs.view_own", views_cost_pages.tenant_own_cost_section),
        ]
        extensions.TENANT_SECTIONS.extend(extensions.TenantSection(*section) for section in sections)
        extensions.tenant_landing.append(views_dashboard.landing_url)
