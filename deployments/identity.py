"""What of a tenant's identity deployments carry into AWS (registered in tenants.extensions.identity_holders).

A deployment's AWS name, tags and S3 keys hold the owner's slug, also after it is deleted (Cost Explorer
keeps its history under those tags); while it is live, or the tenant has a place on a shared endpoint,
the tenant's isolation decides where it is served. A model package's S3 key holds the slug.
"""

from __future__ import annotations

from django.db.models import Count, Q

from deployments.models import Deployment, DeploymentMember, ModelPackage, Status
from tenants.extensions import IdentityHold
from tenants.models import Tenant

SLUG_AND_ISOLATION = frozenset({"slug", "isolation"})
SLUG = frozenset({"slug"})


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def tenant_identity_holds(tenant: Tenant) -> list[IdentityHold]:
    """The tenant's deployments, places on shared endpoints and model packages, as IdentityHolds."""
    owned = Deployment.objects.filter(tenant=tenant).aggregate(
        live=Count("pk", filter=~Q(status=Status.DELETED)),
        deleted=Count("pk", filter=Q(status=Status.DELETED)),
    )
    places = DeploymentMember.objects.filter(tenant=tenant).count()
    packages = ModelPackage.objects.filter(tenant=tenant).count()
    found = [
        (owned["live"], ("deployment", "deployments"), SLUG_AND_ISOLATION),
        (places, ("place on a shared endpoint", "places on shared endpoints"), SLUG_AND_ISOLATION),
        (owned["deleted"], ("deleted deployment", "deleted deployments"), SLUG),
        (packages, ("model package", "model packages"), SLUG),
    ]
    return [IdentityHold(_count(n, *nouns), pins) for n, nouns, pins in found if n]
