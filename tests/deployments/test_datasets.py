"""A tenant's input area through its pages: CSV uploads checked against the model's input (refused with
the line and the reason, nothing kept), the size limit, deletes, an operator's existing prefix, and
isolation: a tenant sees only its own files, runs and run files."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deployments.models import DatasetFile, Deployment, Kind, TransformRun, TransformRunFile
from deployments.rules import settings_normalise
from emulator.artifacts import input_csv
from tenants.models import AuditEvent
from tests.deployments.conftest import BUCKET
from tests.deployments.test_batch_runs import prefix_empty
from tests.factories import make_tenant, make_user


@pytest.fixture
def area(world: SimpleNamespace, aws: Any) -> SimpleNamespace:
    """A tenant whose batch model reads 6 numeric columns without a header, its input area empty."""
    tenant = make_tenant(name="Data Corp", slug="datacorp")
    prefix_empty(aws, "datasets/datacorp/")
    admin = make_user("tenant_admin", tenant, username="dora")
    deployment = Deployment.objects.create(
        tenant=tenant,
        name="Data nightly",
        kind=Kind.BATCH,
        isolation="silo",
        aws_name="sa-datacorp-bt-1",
        status="in_service",
        settings=settings_normalise(Kind.BATCH, {"input_columns": 6, "schedule": "weekly"}),
    )
    return SimpleNamespace(tenant=tenant, admin=admin, deployment=deployment)


def upload(client: Any, area: SimpleNamespace, name: str, body: bytes) -> Any:
    client.force_login(area.admin)
    url = reverse("dataset_upload", kwargs={"tenant_id": area.tenant.pk})
    return client.post(url, {"file": _named(name, body)})


def _named(name: str, body: bytes) -> Any:
    handle = io.BytesIO(body)
    handle.name = name
    return handle


def stored(aws: Any) -> list[str]:
    listed = aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="datasets/datacorp/input/").get("Contents", [])
    return [item["Key"].rsplit("/", 1)[-1] for item in listed]


def test_a_file_that_fits_is_stored_and_listed_with_its_rows(
    client: Any, area: SimpleNamespace, aws: Any
) -> None:
    response = upload(client, area, "june.csv", input_csv("alpha", 12))
    assert response.status_code == 302
    assert stored(aws) == ["june.csv"]
    item = DatasetFile.objects.get(tenant=area.tenant)
    assert (item.rows, item.name) == (12, "june.csv")
    assert AuditEvent.objects.filter(action="dataset.upload", tenant=area.tenant).exists()
    page = client.get(reverse("tenant_datasets", kwargs={"tenant_id": area.tenant.pk}))
    text = page.content.decode()
    assert "june.csv" in text
    assert ">12<" in text
    assert "Weekly on Monday at 02:00 (UTC)" in text


BAD_FILES = [
    ("wrong column count", b"1,2,3,4,5,6\n1,2,3,4,5\n", "Line 2: 5 columns, but the model expects 6."),
    (
        "non-numeric cell",
        b"1,2,3,4,5,6\n1,2,3,abc,5,6\n",
        "Line 2: column 4 holds “abc”, which is not a number.",
    ),
    ("empty cell", b"1,2,3,4,5,6\n1,,3,4,5,6\n", "Line 2: column 2 is empty"),
    ("empty file", b"", "The file is empty: it holds no rows."),
    ("blank lines only", b"\n\n", "The file is empty"),
    (
        "a header the model does not expect",
        b"a,b,c,d,e,f\n1,2,3,4,5,6\n",
        "Line 1: this looks like a header row",
    ),
    ("not UTF-8", b"1,2,3,4,5,6\n1,2,3,4,5,\xff\n", "Line 2: the file is not UTF-8 text"),
]


@pytest.mark.parametrize(("what", "body", "reason"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_file_that_does_not_fit_is_refused_with_the_line_and_nothing_is_kept(
    client: Any, area: SimpleNamespace, aws: Any, what: str, body: bytes, reason: str
) -> None:
    response = upload(client, area, "bad.csv", body)
    assert response.status_code == 200
    text = response.content.decode()
    assert "bad.csv was not uploaded." in text
    assert reason in text.replace("&#x27;", "'")
    assert stored(aws) == []
    assert not DatasetFile.objects.exists()


def test_a_header_row_is_required_when_the_model_expects_one_and_is_not_stored(
    client: Any, area: SimpleNamespace, aws: Any
) -> None:
    values = settings_normalise(Kind.BATCH, {**area.deployment.settings, "input_header": "present"})
    Deployment.objects.filter(pk=area.deployment.pk).update(settings=values)
    refused = upload(client, area, "nohead.csv", b"1,2,3,4,5,6\n")
    assert "Line 1: this model&#x27;s input starts with a header row" in refused.content.decode()
    assert upload(client, area, "head.csv", b"a,b,c,d,e,f\n1,2,3,4,5,6\n").status_code == 302
    body = aws.s3.get_object(Bucket=BUCKET, Key="datasets/datacorp/input/head.csv")["Body"].read()
    assert body == b"1,2,3,4,5,6\n"
    assert DatasetFile.objects.get().columns == ["a", "b", "c", "d", "e", "f"]


def test_a_file_past_the_size_limit_is_refused(
    client: Any, area: SimpleNamespace, aws: Any, settings: Any
) -> None:
    settings.DATASET_MAX_BYTES = 100
    response = upload(client, area, "big.csv", input_csv("alpha", 50))
    assert "the limit is 100" in response.content.decode()
    assert stored(aws) == []


def test_a_file_name_taken_is_refused_and_the_first_file_kept(
    client: Any, area: SimpleNamespace, aws: Any
) -> None:
    upload(client, area, "june.csv", input_csv("alpha", 3))
    response = upload(client, area, "june.csv", input_csv("alpha", 5))
    assert "already has a file named june.csv" in response.content.decode()
    assert DatasetFile.objects.get().rows == 3


def test_an_unsafe_file_name_is_refused(client: Any, area: SimpleNamespace, aws: Any) -> None:
    response = upload(client, area, "../../etc.csv", b"1,2,3,4,5,6\n")
    assert response.status_code == 302  # the name's last part only: etc.csv
    response = upload(client, area, "report.xlsx", b"1,2,3,4,5,6\n")
    assert "ending in .csv" in response.content.decode()
    assert stored(aws) == ["etc.csv"]


def test_a_file_is_deleted_from_the_input_area(client: Any, area: SimpleNamespace, aws: Any) -> None:
    upload(client, area, "june.csv", input_csv("alpha", 3))
    uri = f"s3://{BUCKET}/datasets/datacorp/input/june.csv"
    response = client.post(reverse("dataset_delete", kwargs={"tenant_id": area.tenant.pk}), {"uri": uri})
    assert response.status_code == 302
    assert stored(aws) == []
    assert not DatasetFile.objects.exists()


def test_an_operator_points_the_tenant_at_an_existing_prefix(
    client: Any, area: SimpleNamespace, aws: Any, world: SimpleNamespace
) -> None:
    prefix_empty(aws, "exports/datacorp/")
    aws.s3.put_object(Bucket=BUCKET, Key="exports/datacorp/day1.csv", Body=b"1,2,3,4,5,6\n")
    client.force_login(world.operator)
    url = reverse("input_area_point", kwargs={"tenant_id": area.tenant.pk})
    bad = client.post(url, {"s3_prefix": "not-a-prefix"})
    assert "Give an S3 prefix such as" in bad.content.decode()
    assert client.post(url, {"s3_prefix": f"s3://{BUCKET}/exports/datacorp/"}).status_code == 302
    page = client.get(reverse("tenant_datasets", kwargs={"tenant_id": area.tenant.pk})).content.decode()
    assert "day1.csv" in page
    assert f"s3://{BUCKET}/exports/datacorp/" in page
    # Back to its own area.
    assert client.post(url, {"s3_prefix": ""}).status_code == 302
    assert (
        "day1.csv"
        not in client.get(reverse("tenant_datasets", kwargs={"tenant_id": area.tenant.pk})).content.decode()
    )


def test_a_tenant_admin_cannot_point_the_input_area(client: Any, area: SimpleNamespace, aws: Any) -> None:
    client.force_login(area.admin)
    url = reverse("input_area_point", kwargs={"tenant_id": area.tenant.pk})
    assert client.post(url, {"s3_prefix": f"s3://{BUCKET}/elsewhere/"}).status_code == 403


def _run(area: SimpleNamespace, status: str) -> TransformRun:
    return TransformRun.objects.create(
        deployment=area.deployment,
        tenant=area.tenant,
        sequence=1,
        job_name="sa-datacorp-bt-1-r1",
        input_prefix=f"s3://{BUCKET}/datasets/datacorp/input/",
        output_prefix=f"s3://{BUCKET}/datasets/datacorp/output/r1/",
        status=status,
    )


def test_a_tenant_sees_only_its_own_files_runs_and_run_files(
    client: Any, area: SimpleNamespace, aws: Any, world: SimpleNamespace
) -> None:
    upload(client, area, "secret.csv", input_csv("alpha", 3))
    run = _run(area, "failed")
    TransformRunFile.objects.create(
        run=run,
        tenant=area.tenant,
        input_key=f"{run.input_prefix}secret.csv",
        output_key="o",
        status="failed",
    )
    client = Client()  # another browser: no message of the upload above
    client.force_login(world.admin_a)
    own = reverse("tenant_datasets", kwargs={"tenant_id": world.tenant_a.pk})
    assert "secret.csv" not in client.get(own).content.decode()
    theirs = {"tenant_id": area.tenant.pk}
    assert client.get(reverse("tenant_datasets", kwargs=theirs)).status_code == 404
    assert client.get(reverse("transform_run_detail", kwargs={**theirs, "run_id": run.pk})).status_code == 404
    # Their run under our own tenant's address is not found either.
    mine = {"tenant_id": world.tenant_a.pk, "run_id": run.pk}
    assert client.get(reverse("transform_run_detail", kwargs=mine)).status_code == 404
    uri = f"s3://{BUCKET}/datasets/datacorp/input/secret.csv"
    assert client.post(reverse("dataset_delete", kwargs=theirs), {"uri": uri}).status_code == 404
    # Deleting it through our own tenant's address names a file outside our input area.
    client.post(reverse("dataset_delete", kwargs={"tenant_id": world.tenant_a.pk}), {"uri": uri})
    assert stored(aws) == ["secret.csv"]
    stop = reverse("transform_run_retry", kwargs={**theirs, "run_id": run.pk})
    assert client.post(stop).status_code == 404
    # Their own admin sees it all.
    client.force_login(area.admin)
    page = client.get(reverse("transform_run_detail", kwargs={**theirs, "run_id": run.pk})).content.decode()
    assert "secret.csv" in page


def test_an_upload_streamed_to_disk_stops_at_the_dataset_limit(
    client: Any, area: SimpleNamespace, aws: Any, settings: Any
) -> None:
    """Past the in-memory size, the upload handler writes the file as it arrives and drops what goes past
    DATASET_MAX_BYTES (the view's own limit, not the model packages')."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    settings.DATASET_MAX_BYTES = 1000
    response = upload(client, area, "big.csv", input_csv("alpha", 200))
    assert "the limit is 1000\xa0bytes (DATASET_MAX_BYTES)" in response.content.decode()
    assert stored(aws) == []
    assert upload(client, area, "small.csv", input_csv("alpha", 5)).status_code == 302
    assert stored(aws) == ["small.csv"]


def test_notices_are_listed_and_marked_read(client: Any, area: SimpleNamespace) -> None:
    from tenants.notices import notice_send

    told = notice_send(
        users=[area.admin],
        tenant=area.tenant,
        key="run:1:failed",
        level="error",
        title="Run 1 of Data nightly failed",
        body="1 of 2 files were transformed.",
        url="/x/",
    )
    assert told == 1
    client.force_login(area.admin)
    page = client.get(reverse("notices")).content.decode()
    assert "Run 1 of Data nightly failed" in page
    assert 'class="bell-count">1<' in page
    assert client.post(reverse("notices_read")).status_code == 302
    assert 'class="bell-count"' not in client.get(reverse("notices")).content.decode()


def test_a_run_over_many_files_lists_them_a_page_at_a_time(
    client: Any, area: SimpleNamespace, settings: Any
) -> None:
    from deployments.views_runs import FILES_PER_PAGE

    run = _run(area, "completed")
    TransformRunFile.objects.bulk_create(
        TransformRunFile(
            run=run, tenant=area.tenant, input_key=f"{run.input_prefix}day-{n:04}.csv", output_key="o",
            status="succeeded",
        )
        for n in range(FILES_PER_PAGE + 5)
    )  # fmt: skip
    client.force_login(area.admin)
    url = reverse("transform_run_detail", kwargs={"tenant_id": area.tenant.pk, "run_id": run.pk})
    first = client.get(url).content.decode()
    assert first.count('<td class="mono small nowrap"') == FILES_PER_PAGE
    assert f"Files 1–{FILES_PER_PAGE} of {FILES_PER_PAGE + 5}" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "day-0104.csv" in second
    assert "day-0000.csv" not in second
    assert client.get(url, {"page": "x"}).status_code == 200  # a bad page is the first, never a 500
