"""Application Auto Scaling and CloudWatch for asynchronous endpoints that scale to zero.

AWS's pattern for asynchronous inference: a scalable target with MinCapacity 0, a target-tracking
policy on ApproximateBacklogSizePerInstance, and a step policy fired by an alarm on
HasBacklogWithoutCapacity (target tracking alone cannot leave zero instances).
"""

from __future__ import annotations

from typing import Any

from deployments.aws.clients import call
from deployments.aws.errors import NotFound, Terminal

AAS = "application-autoscaling"


def _target(endpoint_name: str) -> dict[str, str]:
    return {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint_name}/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }


def _alarm_name(endpoint_name: str) -> str:
    return f"{endpoint_name}-wake"


def scaling_register(endpoint_name: str, min_capacity: int, max_capacity: int) -> None:
    """Let the endpoint's variant scale between `min_capacity` (0 allowed for async) and `max_capacity`."""
    target = _target(endpoint_name)
    # API: RegisterScalableTarget
    call(
        AAS,
        "register_scalable_target",
        target["ResourceId"],
        **target,
        MinCapacity=min_capacity,
        MaxCapacity=max_capacity,
    )


def scaling_policies_put(endpoint_name: str, backlog_per_instance: int = 5) -> None:
    """Track the queue per instance, and wake the endpoint from zero when requests wait."""
    target = _target(endpoint_name)
    dimensions = [{"Name": "EndpointName", "Value": endpoint_name}]
    metric: dict[str, Any] = {
        "MetricName": "ApproximateBacklogSizePerInstance",
        "Namespace": "AWS/SageMaker",
        "Dimensions": dimensions,
        "Statistic": "Average",
    }
    tracking = {
        "TargetValue": float(backlog_per_instance),
        "ScaleInCooldown": 600,
        "ScaleOutCooldown": 120,
        "CustomizedMetricSpecification": metric,
    }
    # API: PutScalingPolicy (target tracking)
    call(
        AAS,
        "put_scaling_policy",
        target["ResourceId"],
        **target,
        PolicyName=f"{endpoint_name}-backlog",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking,
    )
    step = {
        "AdjustmentType": "ChangeInCapacity",
        "MetricAggregationType": "Average",
        "Cooldown": 300,
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }
    # API: PutScalingPolicy (step scaling out of zero)
    answer = call(
        AAS,
        "put_scaling_policy",
        target["ResourceId"],
        **target,
        PolicyName=_alarm_name(endpoint_name),
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration=step,
    )
    alarm: dict[str, Any] = {
        "AlarmName": _alarm_name(endpoint_name),
        "MetricName": "HasBacklogWithoutCapacity",
        "Namespace": "AWS/SageMaker",
        "Dimensions": dimensions,
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 2,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "missing",
        "AlarmActions": [answer["PolicyARN"]],
    }
    # API: PutMetricAlarm (CloudWatch)
    call("cloudwatch", "put_metric_alarm", _alarm_name(endpoint_name), **alarm)


def scaling_apply(endpoint_name: str, min_capacity: int, max_capacity: int) -> None:
    """Register the target and put its policies and wake alarm (all upserts: safe to repeat)."""
    scaling_register(endpoint_name, min_capacity, max_capacity)
    scaling_policies_put(endpoint_name)


def scaling_remove(endpoint_name: str) -> None:
    """Before UpdateEndpoint or DeleteEndpoint: the wake alarm, then the scalable target (and its policies).

    A target that is not registered counts as already gone.
    """
    name = _alarm_name(endpoint_name)
    # API: DeleteAlarms (CloudWatch; an absent alarm is not an error)
    call("cloudwatch", "delete_alarms", name, AlarmNames=[name])
    target = _target(endpoint_name)
    try:
        # API: DeregisterScalableTarget
        call(AAS, "deregister_scalable_target", target["ResourceId"], **target)
    except NotFound:  # AWS: ObjectNotFoundException
        pass
    except Terminal as exc:
        if not _no_target(exc):
            raise


def _no_target(exc: Terminal) -> bool:
    # moto (the emulator's Application Auto Scaling) answers a missing target with a ValidationException
    # where AWS answers ObjectNotFoundException; only that message on this action means "already gone".
    return exc.code == "ValidationException" and "No scalable target found" in exc.message
