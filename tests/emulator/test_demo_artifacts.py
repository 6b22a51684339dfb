"""Demo artifacts: real models in SageMaker's container layout, uploaded idempotently."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import numpy as np

from emulator import artifacts
from emulator.models import SKLEARN, XGBOOST, load_artifact
from emulator.testing import BUCKET, SKLEARN_IMAGE, XGBOOST_IMAGE


def test_the_demo_uploads_models_and_datasets_where_the_product_expects_them(s3: Any, demo: Any) -> None:
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="models/")["Contents"]}
    assert {
        "models/acme/model.tar.gz",
        "models/globex/model.tar.gz",
        "models/shared/model.tar.gz",
        "models/sklearn/model.tar.gz",
    } <= keys
    rows = (
        s3.get_object(Bucket=BUCKET, Key="datasets/acme/input/part-000.csv")["Body"]
        .read()
        .decode()
        .splitlines()
    )
    assert len(rows) == artifacts.INPUT_ROWS
    assert all(len(row.split(",")) == len(artifacts.FEATURES) for row in rows)


def test_uploading_again_changes_nothing(s3: Any, demo: Any) -> None:
    before = s3.head_object(Bucket=BUCKET, Key="models/acme/model.tar.gz")
    artifacts.upload_demo(s3, BUCKET, ["acme"], with_images=False)
    after = s3.head_object(Bucket=BUCKET, Key="models/acme/model.tar.gz")
    assert after["ETag"] == before["ETag"]
    assert after["LastModified"] == before["LastModified"]


def test_the_archives_hold_what_the_containers_load() -> None:
    packed = artifacts.xgboost_artifact("acme")
    with tarfile.open(fileobj=io.BytesIO(packed)) as archive:
        assert archive.getnames() == ["xgboost-model"]
    rows = artifacts.churn_features("acme", 4)
    np.testing.assert_allclose(
        load_artifact(XGBOOST, packed).score(rows),
        artifacts.train_xgboost("acme").inplace_predict(rows),
        rtol=1e-6,
    )
    assert load_artifact(SKLEARN, artifacts.sklearn_artifact()).score(rows).shape == (4,)


def test_the_image_uris_come_from_sagemaker_core() -> None:
    assert artifacts.image_uri("xgboost") == XGBOOST_IMAGE
    assert artifacts.image_uri("sklearn") == SKLEARN_IMAGE
