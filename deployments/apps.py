from __future__ import annotations

from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        """Plug the deployment pages into the tenant pages (tenants imports nothing of this app)."""
        from deployments import services, views
        from tenants import extensions

        extensions.NAVIGATION[1:1] = [
            extensions.NavItem("Deployments", "deployment_fleet", "deployments.view"),
            extensions.NavItem("Models", "model_packages", "deployments.view"),
            extensions.NavItem("Advisor", "advisor", "deployments.view"),
        ]
        extensions.TENANT_SECTIONS.append(
            extensions.TenantSection(
                "deployments/_tenant_section.html", "deployments.view", views.tenant_section_context
            )
        )
        extensions.offboarding_handler.append(services.tenant_teardown)
        extensions.after_onboarding.append(views.after_onboarding_url)
