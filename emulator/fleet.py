"""The serving side of a deployed endpoint: its variants, containers and loaded models."""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from emulator import s3io
from emulator.models import (
    ArchiveError,
    ArchiveLimits,
    ArchiveTooLarge,
    LoadedModel,
    ModelLoadError,
    framework_for_image,
    load_artifact,
)


def fetch_and_load(framework: str, uri: str, limits: ArchiveLimits | None = None) -> LoadedModel:
    """Read a `model.tar.gz` from S3 and load it within `limits`; ModelLoadError says what AWS would say."""
    try:
        bucket, key = s3io.split_uri(uri)
        data = s3io.get_bytes(bucket, key)
    except (ValueError, s3io.S3Missing) as exc:
        raise ModelLoadError(
            f"Failed to download model data(bucket: {uri[5:].partition('/')[0]}, key: "
            f"{uri[5:].partition('/')[2]}). Please ensure that there is an object located at the URL "
            "and that the role passed to CreateModel has permissions to download the model."
        ) from exc
    try:
        return load_artifact(framework, data, limits)
    except ArchiveTooLarge as exc:
        raise ModelLoadError(f'Failed to extract model data archive from URL "{uri}". {exc}') from exc
    except ArchiveError as exc:
        raise ModelLoadError(
            f'Failed to extract model data archive from URL "{uri}". '
            "Please ensure that the object located at the URL is a valid tar.gz archive."
        ) from exc
    except ModelLoadError as exc:
        raise ModelLoadError(f'Failed to load the model from URL "{uri}": {exc}') from exc


_SHARED_LIMIT = 32
_shared: OrderedDict[tuple[str, str, str, ArchiveLimits | None], LoadedModel] = OrderedDict()
_shared_lock = threading.Lock()


def load_shared(framework: str, uri: str, limits: ArchiveLimits | None = None) -> LoadedModel:
    """A single-model container's model, reused by every endpoint deploying the same unchanged object.

    Keyed by the object's ETag, so a re-uploaded artifact is loaded afresh; loaded models are read-only.
    """
    etag = s3io.object_etag(*s3io.split_uri(uri)) if uri.startswith("s3://") else None
    if etag is None:
        return fetch_and_load(framework, uri, limits)
    key = (framework, uri, etag, limits)
    with _shared_lock:
        found = _shared.get(key)
        if found is not None:
            _shared.move_to_end(key)
            return found
    model = fetch_and_load(framework, uri, limits)
    with _shared_lock:
        _shared[key] = model
        while len(_shared) > _SHARED_LIMIT:
            _shared.popitem(last=False)
    return model


class ModelNotLoaded(Exception):
    """A cold load is still running when the caller's wait is over; it carries on for later calls."""


class ModelCache:
    """Multi-model endpoints' loaded models, least recently used evicted past a memory budget."""

    def __init__(self, budget_bytes: int, limits: ArchiveLimits | None = None) -> None:
        self.budget_bytes = budget_bytes
        self.limits = limits
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, Future[LoadedModel]] = {}

    def get(self, framework: str, uri: str, wait: float | None = None) -> tuple[LoadedModel, bool, float]:
        """The model at `uri`, whether it was cached, and the seconds this call waited for its load.

        A cold load runs in the background, one per key (concurrent cold calls wait for the same one).
        A call waits at most `wait` seconds (None: until it is done), then raises ModelNotLoaded.
        """
        with self._lock:
            found = self._models.get(uri)
            if found is not None:
                self._models.move_to_end(uri)
                return found, True, 0.0
            load = self._loading.get(uri)
            if load is None:
                load = self._loading[uri] = Future()
                threading.Thread(target=self._load, args=(framework, uri, load), daemon=True).start()
        if wait is not None and wait <= 0:
            raise ModelNotLoaded(uri)  # a load takes time: a budget of zero is always exceeded
        started = time.perf_counter()
        try:
            model = load.result(timeout=wait)
        except FutureTimeout as exc:
            raise ModelNotLoaded(uri) from exc
        return model, False, time.perf_counter() - started

    def _load(self, framework: str, uri: str, load: Future[LoadedModel]) -> None:
        try:
            model = fetch_and_load(framework, uri, self.limits)
        except Exception as exc:  # the waiting calls see why; the next call loads again
            with self._lock:
                self._loading.pop(uri, None)
            load.set_exception(exc)
            return
        with self._lock:  # cached before the waiters wake: a call after them finds it in memory
            self._models[uri] = model
            self._evict(keep=uri)
            self._loading.pop(uri, None)
        load.set_result(model)

    def _evict(self, keep: str) -> None:
        total = sum(model.size_bytes for model in self._models.values())
        for uri in list(self._models):
            if total <= self.budget_bytes:
                break
            if uri != keep:
                total -= self._models.pop(uri).size_bytes

    def loaded_count(self, prefix: str) -> int:
        """How many models under `prefix` are loaded."""
        with self._lock:
            return sum(1 for uri in self._models if uri.startswith(prefix))


@dataclass
class Container:
    """One container of a variant: a single model, or a multi-model prefix loaded on demand."""

    hostname: str
    framework: str
    image: str
    model_data_url: str
    multi_model: bool
    model: LoadedModel | None = None


@dataclass
class Variant:
    """A production variant as served: its containers and serverless limits."""

    name: str
    weight: float
    containers: list[Container]
    direct: bool
    serverless: dict[str, Any] | None
    instance_count: int = 1
    semaphore: threading.BoundedSemaphore | None = None
    last_used: float = field(default=float("-inf"))
    ready_at: float = field(default=float("-inf"))  # serverless: when the compute being provisioned is up
    lock: threading.Lock = field(default_factory=threading.Lock)

    def container_for(self, hostname: str | None) -> Container | None:
        """The container answering `hostname` (the first one when not direct)."""
        if not self.direct:
            return self.containers[0]
        return next((c for c in self.containers if c.hostname == hostname), None)


@dataclass
class Fleet:
    """A deployed endpoint's variants, as built from its config and models at deploy time."""

    endpoint_name: str
    variants: list[Variant]
    spec: dict[str, Any]

    def pick(self, wanted: str | None) -> Variant | None:
        """The variant a request goes to: the one named, else a weighted random choice."""
        if wanted:
            return next((v for v in self.variants if v.name == wanted), None)
        if len(self.variants) == 1:
            return self.variants[0]
        weights = [max(v.weight, 0.0) for v in self.variants]
        if sum(weights) == 0:
            weights = [1.0] * len(self.variants)
        return random.choices(self.variants, weights=weights)[0]


def _containers(model: dict[str, Any]) -> tuple[list[Container], bool]:
    mode = (model.get("InferenceExecutionConfig") or {}).get("Mode", "Serial")
    specs = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else model.get("Containers", [])
    containers = []
    for index, spec in enumerate(specs, start=1):
        framework = framework_for_image(spec.get("Image", ""))
        containers.append(
            Container(
                hostname=spec.get("ContainerHostname") or f"container-{index}",
                framework=framework,
                image=spec.get("Image", ""),
                model_data_url=spec.get("ModelDataUrl", ""),
                multi_model=spec.get("Mode") == "MultiModel",
            )
        )
    return containers, len(specs) > 1 and mode == "Direct"


def build_fleet(endpoint_name: str, spec: dict[str, Any], limits: ArchiveLimits | None = None) -> Fleet:
    """Load every variant's models, as SageMaker does before an endpoint goes InService."""
    variants = []
    for variant_spec in spec["variants"]:
        model = spec["models"][variant_spec["ModelName"]]
        containers, direct = _containers(model)
        for container in containers:
            if not container.multi_model:
                if not container.model_data_url:
                    raise ModelLoadError(f"The container {container.hostname} has no ModelDataUrl.")
                container.model = load_shared(container.framework, container.model_data_url, limits)
        serverless = variant_spec.get("ServerlessConfig")
        variants.append(
            Variant(
                name=variant_spec["VariantName"],
                weight=float(variant_spec.get("InitialVariantWeight", 1.0)),
                containers=containers,
                direct=direct,
                serverless=serverless,
                instance_count=int(variant_spec.get("InitialInstanceCount") or 1),
                semaphore=threading.BoundedSemaphore(serverless["MaxConcurrency"]) if serverless else None,
            )
        )
    return Fleet(endpoint_name, variants, spec)
