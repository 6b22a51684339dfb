"""Forms of the tenant's data pages: a CSV upload and, for operators, an existing S3 prefix to read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat

from deployments import conf


class DatasetUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", allow_empty_file=True)  # the check says why it is refused

    def __init__(self, *args: Any, expectation: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = filesizeformat(conf.dataset_max_bytes())
        self.fields["file"].help_text = (
            f"Up to {limit}; the model reads {expectation}." if expectation else ""
        )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = conf.dataset_max_bytes()
        if upload.size > limit:  # known from the upload handler, without reading the file
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the limit is {filesizeformat(limit)} "
                "(DATASET_MAX_BYTES): split it into smaller files."
            )
        return upload


class InputAreaForm(forms.Form):
    s3_prefix = forms.CharField(
        label="S3 prefix",
        required=False,
        max_length=1024,
        help_text="An existing prefix such as s3://acme-exports/daily/ (ending with /); "
        "empty: the tenant's own.",
    )
