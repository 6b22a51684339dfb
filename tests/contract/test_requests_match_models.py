"""Every request the product sends, checked against botocore's service model (enums, patterns and
maximums included), independently of the emulator; and every scenario's steps reached their states."""

from __future__ import annotations

import pytest

from tests.contract.conftest import Captured
from tests.contract.scenarios import SCENARIOS
from tests.contract.shapes import request_problems

# The captured fixture writes (and rolls back) rows: the test database must exist for these tests.
pytestmark = pytest.mark.django_db


# Scenarios whose requests the current code sends outside the model; each marker goes when its fix lands.
KNOWN_BREAKS: dict[str, str] = {}


def _scenarios() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BREAKS[name]))
        if name in KNOWN_BREAKS
        else name
        for name in SCENARIOS
    ]


@pytest.mark.parametrize("scenario", _scenarios())
def test_every_request_matches_botocores_model(captured: Captured, scenario: str) -> None:
    calls = captured.of_scenario(scenario)
    assert calls, f"The {scenario} scenario sent no request at all."
    problems = [
        f"{call.where}: {problem}"
        for call in calls
        for problem in request_problems(call.service, call.operation, call.params)
    ]
    assert not problems, "Requests AWS's model refuses:\n" + "\n".join(problems)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_step_leaves_things_where_the_operator_expects(captured: Captured, scenario: str) -> None:
    steps = [outcome for outcome in captured.outcomes if outcome.scenario == scenario]
    assert steps, f"The {scenario} scenario recorded no step."
    wrong = [o for o in steps if o.expected is not None and o.actual != o.expected]
    assert not wrong, "\n".join(f"{o.step}: {o.actual}, expected {o.expected} ({o.detail})" for o in wrong)
