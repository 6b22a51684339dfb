"""Fixtures: an emulator on a free port (no delays), clients bound to it, demo models, deploy helpers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import numpy as np
import pytest

import emulator
from emulator import artifacts
from emulator.testing import BUCKET, REGION, ROLE, TENANTS, client_kwargs, wait_endpoint

DELAY = 0.4  # seconds: long enough to observe a transition, short enough for a fast suite


@pytest.fixture(scope="session")
def emulator_handle() -> Iterator[emulator.EmulatorHandle]:
    """The emulator every test shares: free port, no delays, no serverless cold start."""
    handle = emulator.start(port=0, delays=0.0, cold_start_seconds=0.0)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def delayed_emulator() -> Iterator[emulator.EmulatorHandle]:
    """An emulator whose transitions take DELAY seconds, for tests that watch Creating, Updating, Stopping."""
    with emulator.start(port=0, delays=DELAY) as handle:
        yield handle


@pytest.fixture(scope="session")
def aws(emulator_handle: emulator.EmulatorHandle) -> Callable[[str], Any]:
    """A boto3 client factory for the shared emulator: aws("s3"), aws("sagemaker") ..."""
    clients: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in clients:
            clients[service] = boto3.client(service, **client_kwargs(emulator_handle.url))
        return clients[service]

    return make


@pytest.fixture(scope="session")
def sagemaker(aws: Callable[[str], Any]) -> Any:
    """The SageMaker control-plane client."""
    return aws("sagemaker")


@pytest.fixture(scope="session")
def runtime(aws: Callable[[str], Any]) -> Any:
    """The SageMaker Runtime client."""
    return aws("sagemaker-runtime")


@pytest.fixture(scope="session")
def s3(aws: Callable[[str], Any]) -> Any:
    """The S3 client (moto, same port)."""
    return aws("s3")


@pytest.fixture(scope="session")
def demo(s3: Any) -> artifacts.DemoArtifacts:
    """Real trained models and datasets uploaded to the emulator's S3."""
    return artifacts.upload_demo(s3, BUCKET, TENANTS, REGION, with_images=False)


@pytest.fixture(scope="session")
def features() -> np.ndarray:
    """A few feature rows to score."""
    return artifacts.churn_features("scoring", 5, offset=3)


@pytest.fixture
def name() -> str:
    """A unique resource name for one test."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def deploy(sagemaker: Any) -> Callable[..., str]:
    """Create model + config + endpoint and wait for InService: deploy(name, model=..., variant=...)."""

    def make(
        name: str,
        *,
        model: dict[str, Any],
        variant: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        wanted: str = "InService",
    ) -> str:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **model)
        variant = variant or {"InstanceType": "ml.m6i.large", "InitialInstanceCount": 1}
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name, **variant}],
            **(config or {}),
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        wait_endpoint(sagemaker, name, wanted)
        return name

    return make
