"""The rules of tests/contract/rules.py, each asserted over every captured request it applies to."""

from __future__ import annotations

import pytest

from tests.contract.conftest import Captured
from tests.contract.rules import RULES, Rule

# The captured fixture writes (and rolls back) rows: the test database must exist for these tests.
pytestmark = pytest.mark.django_db


# Rules the current code breaks, with the issue item that fixes each: strict, so a fix turns them red
# (XPASS) until the marker is removed.
KNOWN_BREAKS = {
    "transform-instance-type-in-enum": "issue 7 item 1: batch offers types outside TransformInstanceType",
    "multi-model-runs-on-cpu": "issue 7 item 2: multi-model endpoints accept GPU/Inferentia types",
    "multi-model-artifact-before-create-model": "issue 7 item 3: CreateModel precedes the members' copies",
    "multi-model-targets-never-rewritten": "issue 7 item 4: a rejoining tenant overwrites <slug>.tar.gz",
    "no-update-while-scalable": "issue 7 item 5: UpdateEndpoint while the async target is registered",
    "transform-model-client-config": "issue 7 item 6: no ModelClientConfig is sent",
    "transform-payload-at-least-1-mb": "issue 7 item 6: MaxPayloadInMB=0 is accepted",
    "recordio-split-iff-recordio-content": "issue 7 item 6: RecordIO content is split by Line",
}


def _rules() -> list[object]:
    return [
        pytest.param(
            rule,
            id=rule.id,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BREAKS[rule.id])]
            if rule.id in KNOWN_BREAKS
            else [],
        )
        for rule in RULES
    ]


@pytest.mark.parametrize("rule", _rules())
def test_requests_keep_the_rule(captured: Captured, rule: Rule) -> None:
    verdict = rule.check(captured.calls)
    if rule.optional and not verdict.checked:
        pytest.skip(f"No captured request is subject to it yet: {rule.description}.")
    assert verdict.checked, f"No scenario sends a request this rule applies to: {rule.description}."
    assert not verdict.problems, f"{rule.description} ({rule.doc}):\n" + "\n".join(verdict.problems)


def test_known_breaks_name_rules_of_the_table() -> None:
    assert set(KNOWN_BREAKS) <= {rule.id for rule in RULES}
