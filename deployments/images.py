"""Container images for the frameworks the product serves, looked up with sagemaker-core's `image_uris`."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

# The versions offered to operators; the first is the default (the demo artifacts are trained for it).
FRAMEWORK_VERSIONS: dict[str, tuple[str, ...]] = {
    "xgboost": ("3.0-5", "1.7-1"),
    "sklearn": ("1.4-2", "1.2-1"),
}
# The file the framework's container loads from model.tar.gz.
ARTIFACT_FILE = {"xgboost": "xgboost-model", "sklearn": "model.joblib"}


class UnknownImage(ValueError):
    """No SageMaker container image for this framework and version."""


def default_version(framework: str) -> str:
    return FRAMEWORK_VERSIONS[framework][0]


@lru_cache(maxsize=32)
def _retrieve(framework: str, region: str, version: str) -> str:
    from sagemaker.core import image_uris  # imported late: it takes about two seconds

    try:
        return str(image_uris.retrieve(framework, region, version=version))
    except ValueError as exc:
        raise UnknownImage(str(exc)) from exc


def image_uri(framework: str, version: str = "", region: str = "") -> str:
    """The serving image of `framework` at `version` (default: the supported one) in the region."""
    if framework not in FRAMEWORK_VERSIONS:
        raise UnknownImage(f"Unsupported framework {framework!r}: choose xgboost or sklearn.")
    return _retrieve(framework, region or settings.AWS_REGION, version or default_version(framework))
