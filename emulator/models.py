"""Loading SageMaker containers' model artifacts and running them in-process (XGBoost, scikit-learn)."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

XGBOOST = "xgboost"
SKLEARN = "sklearn"
# The image repository names of SageMaker's own framework containers pick the framework.
_IMAGE_FRAMEWORKS = (
    (re.compile(r"(^|/)sagemaker-xgboost(:|@|$)"), XGBOOST),
    (re.compile(r"(^|/)sagemaker-scikit-learn(:|@|$)"), SKLEARN),
)
_ARTIFACT_FILES = {XGBOOST: "xgboost-model", SKLEARN: "model.joblib"}


class ModelLoadError(Exception):
    """The artifact is missing, malformed or not loadable by the container's framework."""


class ArchiveError(ModelLoadError):
    """The artifact is not a tar.gz archive."""


class ArchiveTooLarge(ModelLoadError):
    """The artifact goes past the emulator's ArchiveLimits (a bomb must not take the emulator's memory)."""


@dataclass(frozen=True)
class ArchiveLimits:
    """How much of a model.tar.gz the emulator unpacks (--archive-max-unpacked-mb, --archive-max-members).

    Sizes are counted from each member's header before its data is decompressed; beyond the declared data,
    the decompressed stream may hold HEADER_ALLOWANCE per member and HEADER_SLACK in all (tar reads a
    long-name or pax header whole, so an oversized one is a bomb of its own).
    """

    max_unpacked_bytes: int = 1024 * 1024 * 1024
    max_members: int = 1000


HEADER_ALLOWANCE = 8 * 1024
HEADER_SLACK = 1024 * 1024
_BLOCK = 1024 * 1024


class PayloadError(Exception):
    """The request body cannot be scored; `line` is the 1-based record that broke, when known.

    `status` is what the container answers: 415 for a MIME type it does not read or write, else 400.
    """

    def __init__(self, message: str, line: int | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.line = line
        self.status = status


def framework_for_image(image: str) -> str:
    """The framework the container image serves, or ModelLoadError when the emulator cannot run it."""
    for pattern, framework in _IMAGE_FRAMEWORKS:
        if pattern.search(image):
            return framework
    raise ModelLoadError(
        f"The image {image} is not a SageMaker XGBoost or scikit-learn container the emulator can run."
    )


@dataclass
class LoadedModel:
    """A model ready to score feature rows; `size_bytes` is what it counts against a memory budget."""

    framework: str
    scorer: Callable[[np.ndarray], np.ndarray]
    n_features: int | None
    size_bytes: int

    def score(self, rows: np.ndarray) -> np.ndarray:
        """One score per row (probability of the positive class for classifiers)."""
        if self.n_features is not None and rows.shape[1] != self.n_features:
            raise PayloadError(
                f"Feature shape mismatch, expected: {self.n_features}, got {rows.shape[1]}", line=None
            )
        return np.asarray(self.scorer(rows), dtype=float).reshape(-1)


class _Capped:
    """The decompressed stream, refused past `limit` bytes; the member walk raises the limit per member."""

    def __init__(self, source: io.BufferedIOBase | gzip.GzipFile) -> None:
        self.source, self.limit, self.count = source, HEADER_SLACK, 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size if 0 <= size <= _BLOCK else _BLOCK)
        self.count += len(data)
        if self.count > self.limit:
            raise ArchiveTooLarge(
                "The archive's tar headers are far larger than its files need "
                "(a long-name or pax header bomb)."
            )
        return data

    def allow(self, member: tarfile.TarInfo) -> None:
        self.limit += -(-member.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE + HEADER_ALLOWANCE


def _member_bytes(tar_bytes: bytes, wanted: str, limits: ArchiveLimits) -> bytes:
    """The `wanted` file of a tar (gzip-compressed or not), read in one streaming pass within `limits`."""
    raw = io.BytesIO(tar_bytes)
    stream = _Capped(gzip.GzipFile(fileobj=raw) if tar_bytes[:2] == b"\x1f\x8b" else raw)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
            count = declared = 0
            for member in archive:
                count, declared = count + 1, declared + member.size
                _limits_check(count, declared, limits)
                stream.allow(member)
                if member.isfile() and member.name.rsplit("/", 1)[-1] == wanted:
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        return bytes(extracted.read())
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ArchiveError("The model artifact is not a valid tar.gz archive.") from exc
    raise ModelLoadError(f"The model artifact holds no {wanted} file.")


def _limits_check(count: int, declared: int, limits: ArchiveLimits) -> None:
    if count > limits.max_members:
        raise ArchiveTooLarge(
            f"The archive holds more than {limits.max_members:,} files, the emulator's limit "
            "(--archive-max-members)."
        )
    if declared > limits.max_unpacked_bytes:
        raise ArchiveTooLarge(
            f"The archive unpacks to more than {limits.max_unpacked_bytes / 2**20:,.0f} MB, the emulator's "
            "limit (--archive-max-unpacked-mb)."
        )


def _load_xgboost(raw: bytes) -> LoadedModel:
    import xgboost

    booster = xgboost.Booster()
    try:
        booster.load_model(bytearray(raw))
    except xgboost.core.XGBoostError as exc:
        raise ModelLoadError(f"Unable to load xgboost-model: {exc}") from exc
    # One thread per prediction: requests run in parallel threads on few cores.
    booster.set_param({"nthread": 1})

    def scorer(rows: np.ndarray) -> np.ndarray:
        return booster.inplace_predict(rows)

    return LoadedModel(XGBOOST, scorer, booster.num_features(), len(raw))


def _load_sklearn(raw: bytes) -> LoadedModel:
    import joblib

    try:
        estimator = joblib.load(io.BytesIO(raw))
    except Exception as exc:  # joblib raises whatever unpickling raises
        raise ModelLoadError(f"Unable to load model.joblib: {exc}") from exc
    if hasattr(estimator, "predict_proba"):

        def scorer(rows: np.ndarray) -> np.ndarray:
            return estimator.predict_proba(rows)[:, 1]
    else:
        scorer = estimator.predict
    n_features = getattr(estimator, "n_features_in_", None)
    return LoadedModel(SKLEARN, scorer, int(n_features) if n_features is not None else None, len(raw))


def load_artifact(framework: str, tar_bytes: bytes, limits: ArchiveLimits | None = None) -> LoadedModel:
    """Unpack a `model.tar.gz` as the framework's container does (within `limits`) and load its model."""
    raw = _member_bytes(tar_bytes, _ARTIFACT_FILES[framework], limits or ArchiveLimits())
    return _load_xgboost(raw) if framework == XGBOOST else _load_sklearn(raw)


def _csv_rows(text: str) -> list[list[float]]:
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append([float(cell) for cell in line.split(",")])
        except ValueError as exc:
            raise PayloadError(f"Unable to parse CSV line {number}: {exc}", line=number) from exc
    return rows


def _json_rows(text: str, lines: bool) -> list[list[float]]:
    try:
        if lines:
            records = [(n, json.loads(line)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        else:
            document = json.loads(text)
            instances = document.get("instances", document) if isinstance(document, dict) else document
            records = list(enumerate(instances, start=1))
    except (json.JSONDecodeError, AttributeError) as exc:
        raise PayloadError(f"Unable to parse JSON: {exc}") from exc
    rows = []
    for number, record in records:
        features = record.get("features") if isinstance(record, dict) else record
        try:
            rows.append([float(value) for value in features or ()])
        except (TypeError, ValueError) as exc:
            raise PayloadError(f"Unable to parse record {number}: {exc}", line=number) from exc
    return rows


def parse_rows(body: bytes, content_type: str) -> np.ndarray:
    """Feature rows from a CSV (no header), JSON Lines or JSON body."""
    kind = (content_type or "text/csv").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("The payload is not UTF-8 text.") from exc
    if kind in ("text/csv", "text/plain", "application/x-csv"):
        rows = _csv_rows(text)
    elif kind in ("application/jsonlines", "application/x-jsonlines"):
        rows = _json_rows(text, lines=True)
    elif kind == "application/json":
        rows = _json_rows(text, lines=False)
    else:
        raise PayloadError(f"Content type {content_type} is not supported by this algorithm.", status=415)
    if not rows:
        raise PayloadError("The payload holds no records.")
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise PayloadError(f"Line {number} has {len(row)} columns, expected {width}.", line=number)
    return np.asarray(rows, dtype=np.float32)


def response_type(content_type: str, accept: str | None) -> str:
    """The MIME type of the answer: Accept when given, else the request's own family."""
    wanted = (accept or "").split(";")[0].strip().lower()
    if wanted and wanted != "*/*":
        return wanted
    kind = (content_type or "text/csv").split(";")[0].strip().lower()
    return kind if kind in ("application/json", "application/jsonlines") else "text/csv"


def format_scores(scores: np.ndarray, mime: str) -> bytes:
    """Encode scores as SageMaker's containers do: one per line for CSV, objects for JSON."""
    values = [format(float(score), ".9g") for score in scores]
    if mime == "application/json":
        return json.dumps({"predictions": [{"score": float(v)} for v in values]}).encode()
    if mime in ("application/jsonlines", "application/x-jsonlines"):
        return "\n".join(json.dumps({"score": float(v)}) for v in values).encode()
    if mime in ("text/csv", "text/plain"):
        return "\n".join(values).encode()
    raise PayloadError(f"Accept type {mime} is not supported by this algorithm.", status=415)


def predict(model: LoadedModel, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
    """Score a request body; returns the response body and its MIME type."""
    mime = response_type(content_type, accept)
    scores = model.score(parse_rows(body, content_type))
    return format_scores(scores, mime), mime
