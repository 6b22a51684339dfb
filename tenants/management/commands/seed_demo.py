"""manage.py seed_demo — build the demo world (idempotent) and print the demo users' passwords."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenants.demo import DEMO_USERS, demo_seed, demo_tokens_seed


class Command(BaseCommand):
    help = "Create the demo tenants and one user per role; safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_seed()
        self.stdout.write(self.style.SUCCESS(f"Demo tenants created: {result['tenants_created']}"))
        self.stdout.write("Demo users (username / password / role):")
        for username, role, slug in DEMO_USERS:
            where = f" of {slug}" if slug else ""
            self.stdout.write(f"  {username:<12} {result['credentials'][username]:<24} {role}{where}")
        tokens = demo_tokens_seed()
        self.stdout.write("Demo API tokens (tenant / token):")
        for slug, secret in tokens.items():
            self.stdout.write(f"  {slug:<12} {secret}")
