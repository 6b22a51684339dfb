"""The rules of tests/contract/rules.py, each asserted over every captured request it applies to."""

from __future__ import annotations

import pytest

from tests.contract.conftest import Captured
from tests.contract.rules import RULES, Rule

# The captured fixture writes (and rolls back) rows: the test database must exist for these tests.
pytestmark = pytest.mark.django_db


# Rules the current code breaks, with the issue item that fixes each: strict, so a fix turns them red
# (XPASS) until the marker is removed.
KNOWN_BREAKS: dict[str, str] = {}


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
