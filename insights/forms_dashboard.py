"""The dashboard settings form: the threshold that flags rows and the input columns' names."""

from __future__ import annotations

from django import forms

from insights.models import MAX_INPUT_COLUMNS


class InsightSettingsForm(forms.Form):
    threshold = forms.FloatField(
        label="Flagging threshold",
        min_value=0.0,
        max_value=1.0,
        help_text="Rows whose score is at or above this value are flagged on the dashboard (0 to 1).",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        error_messages={"invalid": "Enter a number between 0 and 1, such as 0.7."},
    )
    column_names = forms.CharField(
        label="Input column names",
        required=False,
        max_length=1000,
        help_text="The names of your input columns in order, separated by commas, e.g. tenure_months, "
        "monthly_charges. Columns without a name show as Column 1, Column 2 …",
    )

    def clean_column_names(self) -> str:
        names = [name.strip() for name in self.cleaned_data["column_names"].split(",")]
        if len(names) > MAX_INPUT_COLUMNS:
            raise forms.ValidationError(f"Name at most {MAX_INPUT_COLUMNS} columns; you named {len(names)}.")
        if any(len(name) > 60 for name in names):
            raise forms.ValidationError("Keep each column name under 60 characters.")
        return ", ".join(names) if any(names) else ""
