"""Forms for the deployment pages; their validation is the rules table's (deployments.rules), not a copy."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from deployments.catalogue import offered, region_prices
from deployments.models import Deployment, DeploymentMember, Kind, ModelPackage
from deployments.rules import (
    DEFAULT_KINDS,
    INSTANCE,
    INSTANCE_USES,
    KIND_RULES,
    PATTERN_EXAMPLES,
    RuleError,
    Setting,
    is_shared,
)
from deployments.services.joining import draft_members_check, member_plan
from deployments.services.plans import Draft, Plan, draft_problems
from deployments.widgets import PackageSelect, TenantSelect
from saasadmin.forms import EveryErrorShown
from tenants.models import LEAVING_STATUSES, Isolation, Tenant


def service_error_show(form: forms.Form, exc: forms.ValidationError, field: str | None = None) -> None:
    """Show a service's refusal on the form: on the fields the form has, the rest on `field` (or on top).

    A service may name fields the form does not show (a model's own, e.g. `aws_name`): `add_error` would
    raise for those, turning a refusal into a 500.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(field, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else field, errors)


class RuleChoiceField(forms.ChoiceField):
    """Offers the table's choices but leaves refusing other values to the rules (one message, one place)."""

    def valid_value(self, value: Any) -> bool:
        return True


def _setting_field(spec: Setting) -> forms.Field:
    if spec.choices:
        return RuleChoiceField(
            label=spec.label, choices=[(c, c) for c in spec.choices], required=False, help_text=spec.help
        )
    if spec.type is int:
        return forms.IntegerField(label=spec.label, required=False, help_text=spec.help)
    field = forms.CharField(label=spec.label, required=False, help_text=spec.help)
    if spec.pattern_shape in PATTERN_EXAMPLES:  # what a valid value looks like; the rules check it
        field.widget.attrs.update(placeholder=PATTERN_EXAMPLES[spec.pattern_shape][1], spellcheck="false")
    return field


# One form field per setting name across the table (instance_type is shared by several kinds).
SETTING_FIELDS: dict[str, Setting] = {s.name: s for rule in KIND_RULES.values() for s in rule.settings}


class InstanceTypeSelect(forms.Select):
    """Each option names the kinds it is offered for (`data-kinds`); the others start disabled.

    The page's script re-applies this when the kind changes; the rules refuse the rest regardless.
    """

    def __init__(self, kinds_by_type: dict[str, list[str]], kind: str | None) -> None:
        super().__init__(attrs={"data-default": INSTANCE.default})
        self.kinds_by_type, self.kind = kinds_by_type, kind

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        kinds = self.kinds_by_type.get(option["value"])
        if kinds is None:  # a type offered for no kind (withdrawn, or typed): shown, for the rules to refuse
            return option
        option["attrs"]["data-kinds"] = " ".join(kinds)
        if self.kind in INSTANCE_USES and self.kind not in kinds:
            if option["selected"]:  # the saved choice stays, so the rules say why it must change
                option["attrs"]["data-keep"] = True
                option["label"] = f"{option['label']} — not offered for this kind"
            else:
                option["attrs"]["disabled"] = True
        return option


def _instance_label(name: str, entry: dict[str, Any]) -> str:
    gpus = f", {entry['gpus']} GPU" if entry.get("gpus") else ""
    return f"{name} — {entry['vcpu']} vCPU, {entry['memory_gib']:g} GiB{gpus}"


def instance_type_field(kind: str | None, current: str | None) -> forms.Field:
    """The instance types offered for any kind (those of `kind` enabled), plus `current` if withdrawn."""
    instances = region_prices()["instances"]
    kinds_by_type: dict[str, list[str]] = {}
    for each, use in INSTANCE_USES.items():
        for name in offered(use):
            kinds_by_type.setdefault(name, []).append(each)
    order = sorted(kinds_by_type, key=lambda n: (n.split(".")[1], instances[n]["vcpu"], n))
    choices = [(name, _instance_label(name, instances[name])) for name in order]
    if current and current not in kinds_by_type:
        choices.insert(0, (current, f"{current} — not offered"))
    return RuleChoiceField(
        label=INSTANCE.label,
        choices=choices,
        required=False,
        help_text="Only the types AWS offers for the chosen kind in this region",
        widget=InstanceTypeSelect(kinds_by_type, kind),
    )


def _package_field(tenant_field: str, *, shared: bool, label: str = "Model package") -> forms.Field:
    return forms.ModelChoiceField(
        queryset=ModelPackage.objects.select_related("tenant"),
        required=False,
        label=label,
        widget=PackageSelect(tenant_field, shared=shared),
    )


def _tenant_field(label: str, help_text: str = "", **kwargs: Any) -> forms.Field:
    return forms.ModelChoiceField(
        queryset=Tenant.objects.exclude(status__in=LEAVING_STATUSES),
        required=False,
        label=label,
        help_text=help_text,
        widget=TenantSelect,
        **kwargs,
    )


class DeploymentForm(EveryErrorShown):
    """Create or change a deployment; `draft()` gives the Draft for deployment_plan / deployment_apply.

    The page shows the fields of `layout()`, those of the chosen kind (`fields_for_kind`) and, for a
    shared endpoint, its first tenants; every rule is checked by
    `deployments.services.plans.draft_problems`, and its messages land on the matching fields.
    """

    uid = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, label="Deployment id")
    name = forms.CharField(max_length=80)
    tenant = _tenant_field("Tenant", empty_label="Shared (several tenants)")
    isolation = forms.ChoiceField(choices=Isolation.choices)
    kind = forms.ChoiceField(choices=Kind.choices)
    model_package = _package_field("tenant", shared=True)
    # A shared deployment's first tenants (a multi-model endpoint starts with one, multi-container with two).
    first_member = _tenant_field(
        "First tenant",
        "A shared endpoint starts with its tenants: one for a multi-model endpoint, two for a "
        "multi-container one. More join later from the endpoint's page.",
    )
    first_member_package = _package_field("first_member", shared=False, label="Its model package")
    second_member = _tenant_field("Second tenant")
    second_member_package = _package_field("second_member", shared=False, label="Its model package")

    BASE_FIELDS = ("name", "tenant", "isolation", "kind", "model_package")
    MEMBER_FIELDS = ("first_member", "first_member_package", "second_member", "second_member_package")

    def __init__(self, *args: Any, deployment: Deployment | None = None, **kwargs: Any) -> None:
        self.deployment = deployment
        if deployment is not None:
            kwargs.setdefault("initial", {}).update(
                uid=deployment.uid,
                name=deployment.name,
                kind=deployment.kind,
                isolation=deployment.isolation,
                tenant=deployment.tenant,
                model_package=deployment.model_package,
                **deployment.settings,
            )
        super().__init__(*args, **kwargs)
        for name, spec in SETTING_FIELDS.items():
            self.fields[name] = _setting_field(spec)
            self.fields[name].initial = self.initial.get(name, spec.default)
        given = self.data if self.is_bound else self.initial
        kind = deployment.kind if deployment is not None else given.get("kind")
        self.fields["instance_type"] = instance_type_field(kind, given.get("instance_type"))
        self.fields["instance_type"].initial = self.initial.get("instance_type", INSTANCE.default)
        if deployment is not None:
            for fixed in ("kind", "isolation", "tenant"):
                self.fields[fixed].disabled = True
        for name in ("model_package", "first_member_package", "second_member_package"):
            widget = self.fields[name].widget
            assert isinstance(widget, PackageSelect)
            widget.tenant_id = str(self[widget.tenant_field].value() or "")

    @staticmethod
    def initial_for(tenant: Tenant | None, kind: str | None = None) -> dict[str, Any]:
        """Defaults that agree with each other and with `tenant`: kind, isolation, owner or first tenant."""
        if tenant is not None:
            isolation = tenant.isolation
        elif kind is not None:  # shared where the kind can be shared; else its owner is still to choose
            rule = KIND_RULES[kind]
            order = (Isolation.BRIDGE, Isolation.POOL) if rule.shared_in else (Isolation.SILO,)
            isolation = next(i for i in order if i in (rule.shared_in or rule.isolations))
        else:
            isolation = Isolation.BRIDGE
        kind = kind or DEFAULT_KINDS[isolation]
        initial: dict[str, Any] = {"isolation": isolation, "kind": kind}
        if tenant is None:
            return {**initial, "name": f"{isolation}-{kind}".replace("_", "-")}
        own = ModelPackage.objects.filter(tenant=tenant).order_by("-created_at", "-pk").first()
        if not is_shared(kind, isolation):
            return {**initial, "tenant": tenant, "name": f"{tenant.slug}-model", "model_package": own}
        initial.update(name=f"{isolation}-{kind}".replace("_", "-"), first_member=tenant)
        if KIND_RULES[kind].per_tenant_model == "required":
            initial["first_member_package"] = own
            if own is not None and kind == Kind.MULTI_MODEL:  # one image for all: the first tenant's
                initial.update(framework=own.framework, framework_version=own.framework_version)
        else:
            shared = ModelPackage.objects.filter(tenant=None).order_by("-created_at", "-pk").first()
            initial["model_package"] = shared
        return initial

    def chosen_tenant(self) -> Tenant | None:
        """The tenant the form is about: the owner, or else a shared endpoint's first tenant."""
        for name in ("tenant", "first_member"):
            try:
                tenant = self.fields[name].clean(self[name].value())
            except forms.ValidationError:
                continue
            if tenant is not None:
                return tenant
        return None

    def layout(self) -> dict[str, list[forms.BoundField]]:
        """What the page renders: base fields, a shared endpoint's first tenants, every kind's settings."""
        settings = {name for kind in Kind.values for name in self.fields_for_kind(kind)}
        members = self.MEMBER_FIELDS if self.deployment is None else ()  # members change on their own page
        return {
            "base": [self[name] for name in self.BASE_FIELDS],
            "members": [self[name] for name in members],
            "settings": [self[name] for name in self.fields if name in settings],
        }

    def shown_fields(self) -> list[str]:
        return [field.name for group in self.layout().values() for field in group]

    @staticmethod
    def fields_for_kind(kind: str) -> list[str]:
        """The setting fields the page shows for `kind`."""
        return [spec.name for spec in KIND_RULES[kind].settings]

    def draft(self) -> Draft:
        """The Draft for deployment_plan / deployment_apply (call after is_valid())."""
        data = self.cleaned_data
        settings = {name: data.get(name) for name in self.fields_for_kind(data["kind"])}
        # Only a shared endpoint has members: those of a form switched to a tenant's own kind are left.
        shared = is_shared(data["kind"], data["isolation"])
        members = tuple(
            (data[name], data.get(f"{name}_package"))
            for name in ("first_member", "second_member")
            if data.get(name) and shared
        )
        return Draft(
            name=data["name"],
            kind=data["kind"],
            isolation=data["isolation"],
            tenant=data.get("tenant"),
            model_package=data.get("model_package"),
            settings=settings,
            members=members,
            uid=data["uid"],
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not cleaned.get("kind"):
            return cleaned
        draft = self.draft()
        problems = draft_problems(draft, creating=self.deployment is None)
        if not problems and self.deployment is None:
            try:
                draft_members_check(draft)
            except RuleError as exc:
                problems = {"first_member": exc.problems["tenant"]}
        for field, messages in problems.items():
            target = {"members": "first_member"}.get(field, field)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)
        return cleaned


class MemberJoinForm(EveryErrorShown):
    """A tenant joining a shared deployment, with its own model package when the kind needs one."""

    tenant = forms.ModelChoiceField(queryset=Tenant.objects.all())
    model_package = _package_field("tenant", shared=False)

    def __init__(self, *args: Any, deployment: Deployment, **kwargs: Any) -> None:
        self.deployment = deployment
        super().__init__(*args, **kwargs)
        tenant_field = self.fields["tenant"]
        assert isinstance(tenant_field, forms.ModelChoiceField)
        tenant_field.queryset = Tenant.objects.filter(isolation=deployment.isolation).exclude(
            status__in=LEAVING_STATUSES
        )
        # Only the chosen tenant's packages (and shared ones where the kind serves one shared model).
        widget = self.fields["model_package"].widget
        assert isinstance(widget, PackageSelect)
        widget.shared = KIND_RULES[deployment.kind].per_tenant_model != "required"
        widget.attrs["data-shared"] = "yes" if widget.shared else "no"
        widget.tenant_id = str(self["tenant"].value() or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        self.plan = _member_plan_or_errors(
            self, "tenant", self.deployment, cleaned["tenant"], cleaned.get("model_package")
        )
        return cleaned


def _member_plan_or_errors(
    form: forms.Form, field: str, deployment: Deployment, tenant: Tenant, package: ModelPackage | None
) -> Plan | None:
    """The plan of a member joining or changing its model; the rules' refusals go on `field`."""
    try:
        return member_plan(deployment=deployment, tenant=tenant, model_package=package)
    except RuleError as exc:
        for messages in exc.problems.values():
            for message in messages:
                form.add_error(field, message)
    return None


class MemberChangeForm(forms.Form):
    """Another model package for a tenant already served by a shared deployment; `plan` once valid."""

    model_package = forms.ModelChoiceField(queryset=ModelPackage.objects.none())

    def __init__(self, *args: Any, deployment: Deployment, member: DeploymentMember, **kwargs: Any) -> None:
        self.deployment, self.member = deployment, member
        super().__init__(*args, **kwargs)
        field = self.fields["model_package"]
        assert isinstance(field, forms.ModelChoiceField)
        others = ModelPackage.objects.filter(tenant=member.tenant)
        field.queryset = others.exclude(pk=member.model_package_id) if member.model_package_id else others

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        self.plan = _member_plan_or_errors(
            self, "model_package", self.deployment, self.member.tenant, cleaned["model_package"]
        )
        return cleaned


class MarkRemovedForm(forms.Form):
    """An operator's word that a deployment whose delete failed was removed by hand, and how."""

    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How the resources were removed (e.g. deleted in the AWS console, and by whom). "
        "Recorded in the audit log.",
    )
    confirm = forms.BooleanField(
        label="I checked that none of the resources above exists in AWS any more",
        error_messages={"required": "Check that the resources are gone from AWS first, then tick this."},
    )
