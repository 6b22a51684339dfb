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
- batch: transform_run_start(actor, deployment) -> TransformRun; run_now, run_stop, run_retry (run_control)
- datasets: dataset_upload (checked CSV into the input area), dataset_delete, input_area_point, input_objects
- offboarding: offboarding_plan(tenant) -> OffboardingPlan (before confirming); tenant_teardown(actor,
  tenant) (registered as tenants.extensions' offboarding handler); offboarding_remaining(tenant) ->
  [Remaining] (what is left, what holds it); deployment_mark_removed(actor, deployment, reason) (a
  failed delete done by hand)
- reconcile_last_report() -> ReconcileReport | None (drift, orphans, resumed rows)
Writes raise django.core.exceptions.ValidationError with messages from the rules table.
"""

from __future__ import annotations

from deployments.services.archives import ArchiveFacts, archive_inspect
from deployments.services.datasets import dataset_delete, dataset_upload, input_area_point, input_objects
from deployments.services.deployments import deployment_apply, deployment_delete, deployment_retry
from deployments.services.joining import (
    deployment_member_change,
    deployment_member_join,
    deployment_member_leave,
    member_leave_deletes,
    member_plan,
)
from deployments.services.offboarding import (
    OffboardingPlan,
    Remaining,
    offboarding_plan,
    offboarding_remaining,
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
from deployments.services.run_control import (
    transform_run_notify,
    transform_run_now,
    transform_run_retry,
    transform_run_stop,
)
from deployments.services.runs import transform_run_advance, transform_run_start
from deployments.services.teardown import deployment_mark_removed, tenant_teardown

__all__ = [
    "ArchiveFacts",
    "Draft",
    "OffboardingPlan",
    "Plan",
    "ReconcileReport",
    "Remaining",
    "ResourceAction",
    "archive_inspect",
    "dataset_delete",
    "dataset_upload",
    "deletion_plan",
    "deployment_advance",
    "deployment_apply",
    "deployment_delete",
    "deployment_mark_removed",
    "deployment_member_change",
    "deployment_member_join",
    "deployment_member_leave",
    "deployment_plan",
    "deployment_retry",
    "deployments_reconcile",
    "draft_problems",
    "input_area_point",
    "input_objects",
    "member_leave_deletes",
    "member_plan",
    "model_package_register",
    "model_package_upload",
    "offboarding_plan",
    "offboarding_remaining",
    "orphans_list",
    "reconcile_last_report",
    "tenant_teardown",
    "transform_run_advance",
    "transform_run_notify",
    "transform_run_now",
    "transform_run_retry",
    "transform_run_start",
    "transform_run_stop",
]
