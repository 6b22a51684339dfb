from __future__ import annotations

from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments"

    def ready(self) -> None:
        """Offboarding tears the tenant's SageMaker resources down before the tenant is offboarded."""
        from deployments.services.teardown import tenant_teardown
        from tenants import extensions

        if tenant_teardown not in extensions.offboarding_handler:
            extensions.offboarding_handler.append(tenant_teardown)
