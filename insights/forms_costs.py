"""The operator's form for a shared deployment's cost split: the rule, the idle policy, members' weights."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from deployments.models import Deployment
from insights.costs.rules import MAX_WEIGHT
from insights.models_costs import CostRule, IdlePolicy, SplitBasis

BASIS_HELP: dict[str, str] = {
    SplitBasis.INVOCATIONS: "each member's requests that day over all members' requests",
    SplitBasis.LATENCY: "each member's model time (latency × requests) over all members'",
    SplitBasis.EVEN: "each member's hours as a member over all members' hours",
    SplitBasis.WEIGHTS: "each member's weight × its hours as a member, over the sum",
}


class CostRuleForm(forms.Form):
    basis = forms.ChoiceField(
        label="Split the used cost", choices=SplitBasis.choices, widget=forms.RadioSelect
    )
    idle_policy = forms.ChoiceField(
        label="The idle share (hours nobody used it)", choices=IdlePolicy.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, deployment: Deployment, rule: CostRule, **kwargs: Any) -> None:
        kwargs["initial"] = {"basis": rule.basis, "idle_policy": rule.idle_policy}
        super().__init__(*args, **kwargs)
        self.members = [m.tenant for m in deployment.members.all()]
        for tenant in self.members:
            self.fields[f"weight_{tenant.pk}"] = forms.DecimalField(
                label=f"Weight of {tenant.name}",
                required=False,
                min_value=Decimal("0.001"),
                max_value=MAX_WEIGHT,
                decimal_places=3,
                initial=(rule.weights or {}).get(str(tenant.pk), 1),
                help_text="Used by the fixed-weights split; 1 when left empty.",
            )

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{tenant.pk}"] for tenant in self.members]

    def weights(self) -> dict[str, Decimal]:
        return {
            str(tenant.pk): self.cleaned_data.get(f"weight_{tenant.pk}") or Decimal(1)
            for tenant in self.members
        }
