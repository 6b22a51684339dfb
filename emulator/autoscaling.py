"""What SageMaker asks Application Auto Scaling (moto's, served in this process) about an endpoint.

AWS, "Update or delete endpoints that use auto scaling" (SageMaker Developer Guide,
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling.html):
- UpdateEndpoint fails when it would change the instance type of a variant registered as a scalable
  target, or remove such a variant; changing only the model is allowed. The caller must deregister the
  variant (DeregisterScalableTarget) first and register it again once the endpoint is InService.
- DeleteEndpoint deregisters the endpoint's scalable targets without notice; deregistering a target
  deletes its scaling policies (DeregisterScalableTarget, Application Auto Scaling API Reference).
"""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends

from emulator.errors import ACCOUNT_ID, AwsError, validation

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def _backend(region: str) -> Any:
    return applicationautoscaling_backends[ACCOUNT_ID][region]


def _prefix(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/".lower()


def scaled_variants(region: str, endpoint: str) -> dict[str, str]:
    """Variant name (lower-cased) → ResourceId of the endpoint's variants registered as scalable targets."""
    prefix = _prefix(endpoint)
    targets = _backend(region).describe_scalable_targets(NAMESPACE, None, DIMENSION)
    return {
        t.resource_id[len(prefix) :].lower(): t.resource_id
        for t in targets
        if t.resource_id.lower().startswith(prefix)
    }


def update_check(
    region: str, endpoint_arn: str, endpoint: str, live: list[dict[str, Any]], wanted: list[dict[str, Any]]
) -> None:
    """Refuse an update that changes the instance type of, or removes, a variant under auto scaling."""
    scaled = scaled_variants(region, endpoint)
    if not scaled:
        return
    new_types = {v["VariantName"].lower(): v.get("InstanceType") for v in wanted}
    blocked = [
        v["VariantName"]
        for v in live
        if v["VariantName"].lower() in scaled
        and new_types.get(v["VariantName"].lower(), "<removed>") != v.get("InstanceType")
    ]
    if blocked:
        # AWS documents this refusal but not its text: the message says what the guide says to do.
        raise validation(
            f'The variant(s) "[{", ".join(blocked)}]" of endpoint "{endpoint_arn}" are registered as '
            "scalable targets with Application Auto Scaling, and this update would change their instance "
            "type or remove them. Deregister them with DeregisterScalableTarget before calling "
            "UpdateEndpoint, and register them again once the endpoint is InService."
        )


def endpoint_deregister(region: str, endpoint: str) -> None:
    """DeleteEndpoint's side effect: deregister the endpoint's scalable targets and delete their policies."""
    backend, prefix = _backend(region), _prefix(endpoint)
    for policy in list(backend.policies.values()):
        if policy.service_namespace == NAMESPACE and policy.resource_id.lower().startswith(prefix):
            backend.delete_scaling_policy(
                policy.policy_name, NAMESPACE, policy.resource_id, policy.scalable_dimension
            )
    for resource_id in scaled_variants(region, endpoint).values():
        backend.deregister_scalable_target(NAMESPACE, resource_id, DIMENSION)


def deregister_check(region: str, params: dict[str, Any]) -> None:
    """DeregisterScalableTarget of a target that is not registered: AWS's ObjectNotFoundException.

    moto answers ValidationException "No scalable target found"; the Application Auto Scaling API
    Reference (API_DeregisterScalableTarget.html) documents ObjectNotFoundException, worded as below
    (public report: ansible/ansible#40237).
    """
    namespace, resource_id = params.get("ServiceNamespace", ""), params.get("ResourceId", "")
    dimension = params.get("ScalableDimension", "")
    targets = _backend(region).describe_scalable_targets(namespace, [resource_id], dimension)
    if not list(targets):
        raise AwsError(
            "ObjectNotFoundException",
            f"No scalable target registered for service namespace: {namespace}, resource ID: "
            f"{resource_id}, scalable dimension: {dimension}",
        )
