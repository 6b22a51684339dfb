"""The scenarios cover the seam: every AWS action deployments/aws/ names is a real operation of its
service (boto3's snake_case method mapped through `meta.method_to_api_mapping`), and each is either
captured by a scenario or listed below with the reason no scenario drives it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.contract.conftest import Captured
from tests.contract.shapes import operation_names

# The captured fixture writes (and rolls back) rows: the test database must exist for these tests.
pytestmark = pytest.mark.django_db

SEAM = Path(__file__).resolve().parents[2] / "deployments" / "aws"
SERVICES = ("sagemaker", "s3", "application-autoscaling", "cloudwatch", "pricing", "sagemaker-runtime")

# (service, operation) → why no scenario sends it; a captured one must leave this list.
NOT_DRIVEN = {
    (
        "pricing",
        "GetProducts",
    ): "only `make prices` calls it, against real AWS (the emulator has no Pricing API)",
    (
        "s3",
        "CreateBucket",
    ): "bucket_ensure creates the bucket only when it is missing; the tests' bucket exists",
    (
        "s3",
        "HeadObject",
    ): "object_exists serves the demo seeding (deployments/demo.py), not a deployment step",
    ("sagemaker", "DescribeModel"): "model_exists has no caller in the services",
}


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "string" assignments (SM = "sagemaker", AAS = "application-autoscaling")."""
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _value(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return constants.get(node.id) if isinstance(node, ast.Name) else None


def seam_actions() -> set[tuple[str, str]]:
    """(service, snake_case action) of every `call(service, action, ...)` in deployments/aws/.

    An action passed through a variable (the paged List* calls) is found among the module's string
    literals that are methods of a service the module calls.
    """
    actions = set()
    for path in sorted(SEAM.glob("*.py")):
        tree = ast.parse(path.read_text())
        constants = _constants(tree)
        services = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "call" and len(node.args) >= 2:
                service, action = _value(node.args[0], constants), _value(node.args[1], constants)
                if service:
                    services.add(service)
                    if action:
                        actions.add((service, action))
        literals = {
            n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        actions |= {(s, a) for s in services for a in literals if a in operation_names(s)}
    return actions


def test_the_seam_is_found() -> None:
    assert ("sagemaker", "create_model") in seam_actions()
    assert ("application-autoscaling", "register_scalable_target") in seam_actions()


def test_every_action_the_seam_names_is_an_operation_of_its_service() -> None:
    unknown = sorted((s, a) for s, a in seam_actions() if s not in SERVICES or a not in operation_names(s))
    assert unknown == []


def test_every_operation_of_the_seam_is_driven_or_explained(captured: Captured) -> None:
    used = {(service, operation_names(service)[action]) for service, action in seam_actions()}
    sent = {(call.service, call.operation) for call in captured.calls}
    assert sorted(used - sent - set(NOT_DRIVEN)) == []
    assert sorted(set(NOT_DRIVEN) & sent) == [], "captured now: remove them from NOT_DRIVEN"
    assert sorted(set(NOT_DRIVEN) - used) == [], "no longer in the seam: remove them from NOT_DRIVEN"
