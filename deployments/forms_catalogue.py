"""Forms of the catalogue pages: a model package upload, and the advisor's needs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.template.defaultfilters import filesizeformat

from deployments import conf
from deployments.advisor import NEED_BOUNDS, Needs, needs_problems
from deployments.images import FRAMEWORK_VERSIONS
from deployments.models import Framework
from deployments.rules import LATENCIES
from deployments.services.archives import size_refusal
from tenants.models import Isolation, Tenant


class ModelPackageUploadForm(forms.Form):
    """A model.tar.gz for a tenant (or shared); the service checks the archive itself, in one pass."""

    tenant = forms.ModelChoiceField(queryset=Tenant.objects.all(), required=False, empty_label="Shared")
    framework = forms.ChoiceField(choices=Framework.choices)
    version = forms.ChoiceField(choices=[(v, f"{f} {v}") for f, vs in FRAMEWORK_VERSIONS.items() for v in vs])
    archive = forms.FileField()
    notes = forms.CharField(widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["archive"].help_text = archive_limits_text()

    def clean_archive(self) -> Any:
        archive = self.cleaned_data["archive"]
        limit = conf.max_upload_bytes()
        if archive.size > limit:  # known from the upload handler, without reading the file
            raise forms.ValidationError(size_refusal(archive.size, limit))
        return archive

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        framework, version = cleaned.get("framework"), cleaned.get("version")
        if framework and version and version not in FRAMEWORK_VERSIONS[framework]:
            self.add_error(
                "version", f"Choose a {framework} version: {', '.join(FRAMEWORK_VERSIONS[framework])}."
            )
        return cleaned


def archive_limits_text() -> str:
    """What the upload page says an archive may be (the settings the checks apply)."""
    return (
        "A model.tar.gz holding xgboost-model (XGBoost) or model.joblib (scikit-learn) at its top level: "
        f"at most {filesizeformat(conf.max_upload_bytes())}, unpacking to at most "
        f"{filesizeformat(conf.max_unpacked_bytes())} in at most {conf.max_archive_members():,} files and "
        "folders; plain files and folders only (no links, devices, absolute paths or `..`)."
    )


def _need_field(name: str, label: str, initial: float, *, whole: bool = False) -> forms.Field:
    """A numeric need, bounded as `deployments.advisor.NEED_BOUNDS` says (checked in `clean`)."""
    bound = NEED_BOUNDS[name]
    attrs = {"min": f"{bound.minimum:g}", "max": f"{bound.maximum:.0f}", "step": "1" if whole else "any"}
    field_class = forms.IntegerField if whole else forms.FloatField
    return field_class(label=label, initial=initial, widget=forms.NumberInput(attrs=attrs))


class AdvisorForm(forms.Form):
    """A tenant's needs; `needs()` gives what `deployments.advisor.advise` ranks."""

    latency = forms.ChoiceField(choices=[(v, v.capitalize()) for v in LATENCIES], initial="milliseconds")
    payload_mb = _need_field("payload_mb", "Largest payload (MB)", 0.1)
    requests_per_day = _need_field("requests_per_day", "Requests per day (per tenant)", 10_000)
    peak_rps = _need_field("peak_rps", "Peak requests per second (per tenant)", 1)
    traffic = forms.ChoiceField(
        choices=[("steady", "Steady"), ("spiky", "Spiky"), ("idle", "Long idle periods")]
    )
    tenants = _need_field("tenants", "Tenants", 1, whole=True)
    own_model = forms.BooleanField(required=False, initial=True, label="Each tenant has its own model")
    same_container = forms.BooleanField(
        required=False, initial=True, label="All models use the same container"
    )
    cold_starts_ok = forms.BooleanField(required=False, label="Cold starts are acceptable")
    inference_ms = _need_field("inference_ms", "Inference time (ms)", 100)
    isolation = forms.ChoiceField(choices=[("", "Any"), *Isolation.choices], required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            for name, message in needs_problems(cleaned).items():
                self.add_error(name, message)
        return cleaned

    def needs(self) -> Needs:
        return Needs(**{**self.cleaned_data, "isolation": self.cleaned_data.get("isolation") or None})

    def query_with(self, values: dict[str, Any]) -> str:
        """The submitted needs as a query string, with `values` (fields of `Needs`) changed."""
        data = {name: self.data.get(name) for name in self.fields if self.data.get(name) not in (None, "")}
        for name, value in values.items():
            if isinstance(self.fields[name], forms.BooleanField):
                data.pop(name, None)
                if value:
                    data[name] = "on"
            else:
                data[name] = "" if value is None else value
        return urlencode(data)
