"""Deployment services: the writes the pages and workers call (see each module for details).

For the pages (reads are in deployments.selectors, forms in deployments.forms):
- upload: model_package_upload(actor, tenant|None, framework, version, fileobj, notes) -> ModelPackage
  (archive_inspect(fileobj, framework) -> ArchiveFacts checks a model.tar.gz as hostile input, in one pass)
- create/change: Draft(...) (DeploymentForm.draft() builds it) -> deployment_plan(draft, deployment=None)
  -> Plan (actions, monthly_before/after/delta) -> deployment_apply(actor, draft, deployment=None)
- shared endpoints: member_plan(...) -> Plan; deployment_member_join(...); deployment_member_change(...)
  (another model package); deployment_member_leave(...);
  member_leave_deletes(deployment) (the last tenant of a multi-model/-container endpoint deletes it)
- deletion_plan(deployment) -> Plan; deployment_delete(actor, deployment); deployment_retry(actor, deployment)
- batch: transform_run_start(actor, deployment) -> TransformRun
- offboarding: tenant_teardown(actor, tenant) (registered as tenants.extensions' offboarding handler)
- reconcile_last_report() -> ReconcileReport | None (drift, orphans, resumed rows)
Writes raise django.core.exceptions.ValidationError with messages from the rules table.
"""

from __future__ import annotations

from deployments.services.archives import ArchiveFacts, archive_inspect
from deployments.services.deployments import (
    deployment_apply,
    deployment_delete,
    deployment_member_change,
    deployment_member_join,
    deployment_member_leave,
    deployment_retry,
    member_leave_deletes,
    member_plan,
)
from deployments.services.packages import model_package_register, model_package_upload
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
    "ArchiveFacts",
    "Draft",
    "Plan",
    "ReconcileReport",
    "ResourceAction",
    "archive_inspect",
    "deletion_plan",
    "deployment_advance",
    "deployment_apply",
    "deployment_delete",
    "deployment_member_change",
    "deployment_member_join",
    "deployment_member_leave",
    "deployment_plan",
    "deployment_retry",
    "deployments_reconcile",
    "draft_problems",
    "member_leave_deletes",
    "member_plan",
    "model_package_register",
    "model_package_upload",
    "orphans_list",
    "reconcile_last_report",
    "tenant_teardown",
    "transform_run_advance",
    "transform_run_start",
]
