"""Deployment services: the writes the pages and workers call (see each module for details)."""

from __future__ import annotations

from deployments.services.deployments import (
    deployment_apply,
    deployment_delete,
    deployment_member_join,
    deployment_member_leave,
    deployment_retry,
    member_plan,
)
from deployments.services.packages import artifact_check, model_package_register, model_package_upload
from deployments.services.plans import (
    Draft,
    Plan,
    ResourceAction,
    deletion_plan,
    deployment_plan,
    draft_problems,
)
from deployments.services.provision import deployment_advance
from deployments.services.reconcile import (
    ReconcileReport,
    deployments_reconcile,
    orphans_list,
    reconcile_last_report,
)
from deployments.services.runs import transform_run_advance, transform_run_start
from deployments.services.teardown import tenant_teardown

__all__ = [
    "Draft",
    "Plan",
    "ReconcileReport",
    "ResourceAction",
    "artifact_check",
    "deletion_plan",
    "deployment_advance",
    "deployment_apply",
    "deployment_delete",
    "deployment_member_join",
    "deployment_member_leave",
    "deployment_plan",
    "deployment_retry",
    "deployments_reconcile",
    "draft_problems",
    "member_plan",
    "model_package_register",
    "model_package_upload",
    "orphans_list",
    "reconcile_last_report",
    "tenant_teardown",
    "transform_run_advance",
    "transform_run_start",
]
