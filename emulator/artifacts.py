"""Demo artifacts: small real models trained with fixed seeds, packed as SageMaker's containers expect.

`python -m emulator.artifacts --endpoint-url URL --bucket saasadmin-demo --tenants acme,globex` uploads
`models/<tenant>/model.tar.gz` (XGBoost, one per tenant), `models/shared/model.tar.gz` (XGBoost),
`models/sklearn/model.tar.gz` (scikit-learn) and `datasets/<tenant>/input/part-000.csv` (features only).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import tarfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

XGBOOST_VERSION = "3.0-5"
SKLEARN_VERSION = "1.4-2"
FEATURES = (
    "tenure_months",
    "monthly_charges",
    "support_tickets",
    "logins_per_week",
    "contract_months",
    "late_payments",
)
TRAIN_ROWS = 400
INPUT_ROWS = 300


@lru_cache(maxsize=8)
def image_uri(framework: str, region: str = "us-east-1") -> str:
    """The SageMaker container image for "xgboost" or "sklearn" at the versions the demo pins."""
    from sagemaker.core import image_uris  # imported late: it takes about two seconds

    version = XGBOOST_VERSION if framework == "xgboost" else SKLEARN_VERSION
    return str(image_uris.retrieve(framework, region, version=version))


def _seed(slug: str) -> int:
    return zlib.crc32(slug.encode())


def churn_features(slug: str, rows: int, offset: int = 0) -> np.ndarray:
    """Churn-like feature rows for a tenant, the same for the same slug every time."""
    rng = np.random.default_rng(_seed(slug) + offset)
    return np.column_stack(
        [
            rng.integers(1, 72, rows),
            rng.normal(70, 25, rows).clip(10, 200).round(2),
            rng.poisson(1.5, rows),
            rng.gamma(2.0, 2.0, rows).round(1),
            rng.choice([1, 12, 24], rows),
            rng.poisson(0.4, rows),
        ]
    ).astype(np.float32)


def churn_labels(slug: str, features: np.ndarray) -> np.ndarray:
    """Labels from a tenant-specific logistic rule, so tenants' models answer differently."""
    rng = np.random.default_rng(_seed(slug) + 7)
    weights = np.array([-0.05, 0.02, 0.6, -0.3, -0.08, 0.9]) * rng.uniform(0.5, 1.5, 6)
    logits = features @ weights + rng.normal(0, 0.5, len(features)) + 0.5
    return (logits > 0).astype(np.float32)


def train_xgboost(slug: str) -> Any:
    """An XGBoost binary classifier for the tenant (returns the Booster)."""
    import xgboost

    features = churn_features(slug, TRAIN_ROWS)
    matrix = xgboost.DMatrix(features, label=churn_labels(slug, features))
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 0, "nthread": 1}
    return xgboost.train(params, matrix, num_boost_round=25)


def train_sklearn(slug: str = "sklearn") -> Any:
    """A scikit-learn logistic regression on the shared churn data."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = churn_features(slug, TRAIN_ROWS)
    return make_pipeline(StandardScaler(), LogisticRegression(random_state=0)).fit(
        features, churn_labels(slug, features)
    )


def pack(filename: str, payload: bytes) -> bytes:
    """A `model.tar.gz` holding one file; byte-identical for identical input (fixed mtimes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo(filename)
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        archive.addfile(info, io.BytesIO(payload))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as zipped:
        zipped.write(raw.getvalue())
    return packed.getvalue()


def xgboost_artifact(slug: str) -> bytes:
    """The tenant's model as the SageMaker XGBoost container loads it (`xgboost-model` in a tar.gz)."""
    return pack("xgboost-model", bytes(train_xgboost(slug).save_raw(raw_format="ubj")))


def sklearn_artifact() -> bytes:
    """The scikit-learn model as the SageMaker scikit-learn container loads it (`model.joblib`)."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(train_sklearn(), buffer)
    return pack("model.joblib", buffer.getvalue())


def input_csv(slug: str, rows: int = INPUT_ROWS) -> bytes:
    """A tenant's batch input: CSV rows without a header, feature columns only."""
    features = churn_features(slug, rows, offset=1)
    return "".join(",".join(format(float(v), "g") for v in row) + "\n" for row in features).encode()


@dataclass
class DemoArtifacts:
    """Where the demo's models and datasets were uploaded, and the images that serve them."""

    bucket: str
    models: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)


def _upload(s3: Any, bucket: str, key: str, body: bytes) -> None:
    # HeadObject first: an unchanged object is not uploaded again (ETag is the MD5 of a simple upload).
    digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
    try:
        if s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') == digest:
            return
    except s3.exceptions.ClientError:
        pass
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def upload_demo(
    s3: Any, bucket: str, tenants: list[str], region: str = "us-east-1", with_images: bool = True
) -> DemoArtifacts:
    """Train and upload every demo artifact through an S3 client; idempotent."""
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **extra)
    result = DemoArtifacts(bucket)
    for slug in [*tenants, "shared"]:
        key = f"models/{slug}/model.tar.gz"
        _upload(s3, bucket, key, xgboost_artifact(slug))
        result.models[slug] = f"s3://{bucket}/{key}"
    _upload(s3, bucket, "models/sklearn/model.tar.gz", sklearn_artifact())
    result.models["sklearn"] = f"s3://{bucket}/models/sklearn/model.tar.gz"
    for slug in tenants:
        key = f"datasets/{slug}/input/part-000.csv"
        _upload(s3, bucket, key, input_csv(slug))
        result.datasets[slug] = f"s3://{bucket}/datasets/{slug}/input/"
    if with_images:
        result.images = {"xgboost": image_uri("xgboost", region), "sklearn": image_uri("sklearn", region)}
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: build and upload the demo artifacts to an emulator (or AWS)."""
    import boto3

    parser = argparse.ArgumentParser(prog="python -m emulator.artifacts", description=__doc__)
    parser.add_argument("--endpoint-url", default=None, help="emulator URL (omit for real AWS)")
    parser.add_argument("--bucket", default="saasadmin-demo")
    parser.add_argument("--tenants", default="acme,globex,initech", help="comma-separated tenant slugs")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    s3 = boto3.client("s3", endpoint_url=args.endpoint_url, region_name=args.region)
    tenants = [slug.strip() for slug in args.tenants.split(",") if slug.strip()]
    result = upload_demo(s3, args.bucket, tenants, args.region)
    for name, uri in {**result.models, **result.datasets, **result.images}.items():
        print(f"{name}\t{uri}")


if __name__ == "__main__":
    main()
