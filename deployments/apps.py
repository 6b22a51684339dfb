from __future__ import annotations

from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        """Plug the deployment pages into the tenant pages (tenants imports nothing of this app).

        Offboarding shows its plan first, tears the tenant's SageMaker resources down before the tenant
        is offboarded, and the tenant's page says what is left and what holds it.
        """
        from deployments import audit_phrases, identity, views, views_isolation, views_offboarding
        from deployments.services.teardown import tenant_teardown
        from tenants import audit_text, extensions

        if tenant_teardown in extensions.offboarding_handler:
            return  # ready() ran already (tests that reload apps)
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
        extensions.TENANT_SECTIONS.append(
            extensions.TenantSection(
                "deployments/_tenant_serving.html", "tenants.view", views.tenant_serving_context
            )
        )
        extensions.TENANT_SECTIONS.append(
            extensions.TenantSection(
                "deployments/_tenant_isolation.html",
                "isolation.check",
                views_isolation.tenant_isolation_context,
            )
        )
        # First on the page of an offboarding tenant: what is left and what holds it.
        extensions.TENANT_SECTIONS.insert(
            0,
            extensions.TenantSection(
                "deployments/_offboarding.html",
                "deployments.manage",
                views_offboarding.tenant_offboarding_context,
            ),
        )
        extensions.OFFBOARDING_SECTIONS.append(
            extensions.TenantSection(
                "deployments/_offboarding_plan.html",
                "deployments.view",
                views_offboarding.offboarding_plan_context,
            )
        )
        extensions.offboarding_handler.append(tenant_teardown)
        extensions.identity_holders.append(identity.tenant_identity_holds)
        audit_text.audit_vocabulary_add(phrases=audit_phrases.PHRASES, fields=audit_phrases.fields())
        extensions.after_onboarding.append(views.after_onboarding_url)
