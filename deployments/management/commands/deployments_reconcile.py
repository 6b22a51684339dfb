"""manage.py deployments_reconcile — one reconcile pass now; --repair-missing is a person's answer to the
alert raised when most of the fleet is missing from ListEndpoints."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deployments.services import deployments_reconcile


class Command(BaseCommand):
    help = (
        "Run one reconcile pass. --repair-missing recreates the endpoints missing from ListEndpoints even "
        "when there are more than reconcile repairs on its own (each is still confirmed by DescribeEndpoint)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--deep", action="store_true", help="also check configs and list orphans")
        parser.add_argument(
            "--repair-missing", action="store_true", help="the missing endpoints really are gone: recreate"
        )

    def handle(self, *args: Any, deep: bool, repair_missing: bool, **options: Any) -> None:
        report = deployments_reconcile(deep=deep, repair_missing=repair_missing)
        self.stdout.write(f"resumed {len(report.resumed)}, repaired {len(report.drifted)}")
        for line in report.drifted:
            self.stdout.write(f"  {line}")
        for line in report.alerts:
            self.stderr.write(f"ALERT: {line}")
        for line in report.errors:
            self.stderr.write(f"error: {line}")
