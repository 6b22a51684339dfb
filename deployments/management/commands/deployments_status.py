"""manage.py deployments_status — the fleet's progress in the terminal; --watch follows it to the end.

Batch deployments also show their latest run: its status, files transformed and failed, and why it
failed, was stopped or was skipped (a run in progress counts as moving)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Q

from deployments.models import Deployment, Kind, Status, TransformRun
from deployments.selectors_runs import run_progress
from deployments.services.run_control import run_page_path
from deployments.states import ACTIVE, progress

BAR_WIDTH = 20


def _bar(percent: int) -> str:
    filled = BAR_WIDTH * percent // 100
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + f"] {percent:3d}%"


class Command(BaseCommand):
    help = "Show every deployment's status and progress; --watch refreshes until none is moving."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--watch", action="store_true", help="refresh until nothing is moving")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
        parser.add_argument("--tenant", help="only this tenant's deployments (slug)")

    def handle(self, *args: Any, watch: bool, interval: float, tenant: str | None, **options: Any) -> None:
        while True:
            moving = self._print(tenant)
            if not watch or not moving:
                return
            time.sleep(interval)
            self.stdout.write("")

    def _print(self, tenant: str | None) -> int:
        """Print one table; returns how many deployments are still moving."""
        # A vendor-level command: it sees every tenant, as operators do.
        deployments = Deployment.objects.select_related("tenant").order_by("name")
        if tenant:
            deployments = deployments.filter(Q(tenant__slug=tenant) | Q(members__tenant__slug=tenant))
        moving = 0
        for deployment in deployments.distinct():
            percent, phrase = progress(deployment)
            moving += deployment.status in ACTIVE
            owner = deployment.tenant.slug if deployment.tenant else "shared"
            failed = deployment.status == Status.FAILED
            line = f"{deployment.name[:28]:<28} {owner:<10} {deployment.kind:<16} {_bar(percent)}  "
            line += "Failed" if failed else phrase
            if failed:
                self.stdout.write(self.style.ERROR(line))
                self.stdout.write(f"    why: {deployment.last_error}")
                self.stdout.write(
                    f"    next: fix the cause, then retry it on its page (/deployments/{deployment.pk}/)"
                )
            else:
                self.stdout.write(line)
            if deployment.kind == Kind.BATCH:
                moving += self._print_run(deployment)
        self.stdout.write(f"{moving} moving")
        return moving

    def _print_run(self, deployment: Deployment) -> int:
        """The deployment's latest run under it; 1 when that run is still moving."""
        run = TransformRun.objects.filter(deployment=deployment).order_by("-sequence").first()
        if run is None:
            return 0
        files = run_progress(run)
        counts = f"{files.transformed} of {files.total} files transformed" if files.total else "no files"
        if files.failed:
            counts += f", {files.failed} failed"
        line = f"    {run.label.lower()}: {run.get_status_display()} · {counts}"
        self.stdout.write(self.style.ERROR(line) if run.status == "failed" else line)
        if run.failure_reason and not run.is_active:
            self.stdout.write(f"    why: {run.failure_reason[:300]}")
        if run.status in ("failed", "stopped") and files.failed:
            page = run_page_path(run)
            self.stdout.write(f"    next: fix the failed files, then retry them on the run's page ({page})")
        return int(run.is_active)
