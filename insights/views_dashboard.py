"""The insight dashboard — the page a tenant's members land on — with its chart data, CSV download,
settings and re-ingest. Thin: fetch through the tenant-scoped selectors, call one service."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from deployments.models import IngestStatus
from insights import dashboard as sel
from insights.charts import run_trend_figure, score_distribution_figure
from insights.csv_export import run_csv_lines
from insights.forms_dashboard import InsightSettingsForm
from insights.services import insight_settings_update, transform_run_reingest
from saasadmin.submissions import submit_once
from tenants.access import get_tenant_or_404, requires, user_can
from tenants.models import Tenant

CHARTS = ("distribution", "trend")
FIGURES_SECONDS = 3600  # a run's figures are kept this long per key (they never go stale: see the key)


def _number(value: float | None) -> str:
    """A cell as the table shows it: whole numbers without decimals, others with two (the template's
    floatformat costs a millisecond per hundred cells, formatting here a tenth of that)."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def _table_row(row: tuple[Any, ...], names_by_file: dict[int, str]) -> tuple[str, str, str, list[str]]:
    """(score, file, line, input cells) of a flagged row (`sel.flagged_page`'s tuple), formatted."""
    score, file_id, line, *inputs = row
    return f"{score:.4f}", names_by_file.get(file_id, ""), f"{line:,}", [_number(value) for value in inputs]


def landing_url(tenant: Tenant) -> str:
    return reverse("insights_dashboard", kwargs={"tenant_id": tenant.pk})


def _run_or_404(tenant: Tenant, run_id: Any) -> Any:
    run = sel.run_of_tenant(tenant, run_id)
    if run is None:
        raise Http404("No such run")
    return run


def _figures_key(
    run: Any, summary: Any, settings: Any, page: Any, sort: str, files: int, can_configure: bool
) -> str:
    """What the run's figures and flagged rows are made of. A run's rows and figures change only when
    it is loaded again (its summary's `computed_at` moves) or recounted (its threshold and count move),
    or the tenant's threshold or column names change; the rest is what the visitor asked for."""
    made_of = (
        run.pk, run.sequence, run.tenant_id, summary.pk, summary.computed_at, summary.threshold,
        summary.rows, summary.rows_above, settings.threshold, settings.column_names, page.number, sort,
        files, can_configure,
    )  # fmt: skip
    return "insights-figures:" + hashlib.sha256(repr(made_of).encode()).hexdigest()


def _figures(request: HttpRequest, context: dict[str, Any], files: list[Any]) -> SafeString:
    """The run's figures and the page of flagged rows asked for, as HTML: made (one query for the rows)
    when its key is new, else as made before."""
    run, summary, settings = context["run"], context["summary"], context["settings"]
    sort = request.GET.get("sort", "-score")
    page = sel.flagged_page(
        tenant=context["tenant"],
        run=run,
        summary=summary,
        threshold=settings.threshold,
        sort=sort,
        page=request.GET.get("page"),
    )  # lazy: the rows are read only when the HTML is made
    key = _figures_key(run, summary, settings, page, sort, len(files), context["can_configure"])
    html = cache.get(key)
    if html is None:
        names = settings.names(summary.columns)
        names_by_file = {f.pk: f.input_key.removeprefix(run.input_prefix) for f in files}
        html = render_to_string(
            "insights/_run_figures.html",
            {
                **context,
                "files": files,
                "page": page,
                "rows": [_table_row(row, names_by_file) for row in page.object_list],
                "sort": sort,
                "params": {"run": run.pk, "sort": sort},
                "headers": [(name, f"x{i + 1}") for i, name in enumerate(names)],
                "threshold_stale": summary.threshold != settings.threshold,
            },
        )
        cache.set(key, html, FIGURES_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by the template engine above, escaped there


@requires("insights.view")
@require_GET
def insights_dashboard(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    recent = sel.runs_recent(tenant)
    chosen = request.GET.get("run")
    run = (sel.run_of_tenant(tenant, chosen) if chosen else None) or sel.run_shown(recent)
    summary = sel.summary_of(run)
    settings = sel.settings_of(tenant)
    context: dict[str, Any] = {
        "tenant": tenant,
        "deployments": sel.batch_deployments(tenant),
        "runs": recent,
        "latest": recent[0] if recent else None,
        "run": run,
        "summary": summary,
        "settings": settings,
        "can_configure": user_can(request.user, "insights.configure"),
        "can_reingest": user_can(request.user, "insights.reingest"),
        "internals": user_can(request.user, "deployments.view"),
    }
    if run is not None and summary is not None:
        files = sel.run_files(run)
        context.update(
            {
                "files": files,
                "stuck": any(f.ingest_status == IngestStatus.LOADING for f in files),
                "figures": _figures(request, context, files),
            }
        )
    return render(request, "insights/dashboard.html", context)


@requires("insights.view")
@require_GET
def insights_chart_data(request: HttpRequest, tenant_id: str, chart: str) -> JsonResponse:
    """A chart's plotly figure as JSON (the page's script draws it); `?run=` picks the run."""
    tenant = get_tenant_or_404(request.user, tenant_id)
    if chart not in CHARTS:
        raise Http404("No such chart")
    if chart == "trend":
        figure = run_trend_figure(sel.trend_points(tenant))
    else:
        run = sel.run_of_tenant(tenant, request.GET["run"]) if request.GET.get("run") else None
        run = run or sel.run_shown(sel.runs_recent(tenant, limit=30))
        summary = sel.summary_of(run)
        threshold = sel.settings_of(tenant).threshold
        figure = score_distribution_figure(summary.histogram if summary else [], threshold)
    return JsonResponse(figure)


@requires("insights.view")
@require_GET
def insights_run_csv(request: HttpRequest, tenant_id: str, run_id: int) -> StreamingHttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    run = _run_or_404(tenant, run_id)
    summary = sel.summary_of(run)
    lines = run_csv_lines(run, sel.settings_of(tenant), summary.columns if summary else 0)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{tenant.slug}-run-{run.sequence}-results.csv"'
    return response


@requires("insights.configure")
@submit_once
def insights_settings(request: HttpRequest, tenant_id: str) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    current = sel.settings_of(tenant)
    initial = {"threshold": current.threshold, "column_names": current.column_names}
    form = InsightSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            insight_settings_update(actor=request.user, tenant=tenant, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"Rows scoring {form.cleaned_data['threshold']:g} or more are now flagged."
            )
            return redirect("insights_dashboard", tenant_id=tenant.pk)
    return render(request, "insights/settings.html", {"tenant": tenant, "form": form})


@requires("insights.reingest")
@require_POST
@submit_once
def insights_run_reingest(request: HttpRequest, tenant_id: str, run_id: int) -> HttpResponse:
    tenant = get_tenant_or_404(request.user, tenant_id)
    run = _run_or_404(tenant, run_id)
    try:
        transform_run_reingest(actor=request.user, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Run {run.sequence}'s files are being loaded again; the figures update when it is done."
        )
    return redirect(reverse("insights_dashboard", kwargs={"tenant_id": tenant.pk}) + f"?run={run.pk}")


def tenant_insights_section(request: HttpRequest, tenant: Tenant) -> dict[str, Any] | None:
    """The tenant page's insights block for operators: the latest run and a link to the dashboard."""
    if not user_can(request.user, "insights.view"):
        return None
    recent = sel.runs_recent(tenant, limit=1)
    return {"tenant": tenant, "latest": recent[0] if recent else None}
