"""manage.py create_user — create a user with a role (how a new installation gets its first operator)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.roles import TENANT_ROLES, Role
from tenants.services import user_create


class Command(BaseCommand):
    help = "Create a user with a role; tenant roles need --tenant <slug>. Asks for the password."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--tenant", help="slug of the tenant, for tenant roles")
        parser.add_argument("--email", default="")

    def handle(
        self, *args: Any, username: str, role: str, tenant: str | None, email: str, **options: Any
    ) -> None:
        if (role in TENANT_ROLES) != bool(tenant):
            raise CommandError("Tenant roles need --tenant; vendor roles must not have one.")
        owner = None
        if tenant:
            owner = Tenant.objects.filter(slug=tenant).first()
            if owner is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
        password = getpass.getpass("Password: ")
        try:
            user_create(
                actor=None, username=username, email=email, role=role, tenant=owner, password=password
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {username} ({role})."))
