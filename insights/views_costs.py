"""The cost split of a shared deployment: its rule, what the idle policy does, and the operator's form."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from deployments import selectors
from insights.costs.rules import cost_rule_effect, cost_rule_for, cost_rule_set
from insights.forms_costs import BASIS_HELP, CostRuleForm
from insights.models_costs import SplitBasis
from saasadmin.submissions import submit_once
from tenants.access import requires

SHORT_BASIS = {"invocations": "Invocations", "latency": "Model time", "even": "Even", "weights": "Weights"}
SHORT_IDLE = {"overhead": "Vendor's", "spread": "Spread"}


@requires("deployments.manage")
@submit_once
def deployment_cost_rule(request: HttpRequest, deployment_id: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    if not deployment.is_shared:
        raise Http404("Only a shared deployment's cost is split.")
    rule = cost_rule_for(deployment)
    form = CostRuleForm(request.POST or None, deployment=deployment, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            cost_rule_set(
                actor=request.user,
                deployment=deployment,
                basis=form.cleaned_data["basis"],
                idle_policy=form.cleaned_data["idle_policy"],
                weights=form.weights(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                "Saved: the next daily run splits by this rule (rerun past days to apply it to them).",
            )
            return redirect("deployment_cost_rule", deployment.pk)
    yesterday = timezone.now().date() - timedelta(days=1)
    members = {m.tenant_id: m.tenant for m in deployment.members.all()}
    effect = cost_rule_effect(deployment, yesterday)
    context = {
        "deployment": deployment,
        "rule": rule,
        "form": form,
        "basis_help": [(value, label, BASIS_HELP[value]) for value, label in SplitBasis.choices],
        "effect": effect,
        "effect_rows": [(members.get(m.tenant_id), m) for m in effect.members],
        "short": {"basis": SHORT_BASIS[rule.basis], "idle": SHORT_IDLE[rule.idle_policy]},
    }
    return render(request, "insights/deployment_cost_rule.html", context)
