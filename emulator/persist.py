"""Saving the emulator's state to a folder and loading it back: control plane, S3 objects, SNS topics."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from moto.sns.models import sns_backends

from emulator import s3io
from emulator.errors import ACCOUNT_ID
from emulator.state import Store

log = logging.getLogger(__name__)


def _write_atomically(path: Path, data: bytes) -> None:
    # Write then rename, so a crash mid-write leaves the previous file intact.
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class Persister:
    """Saves changes in the background (debounced) and restores them when an emulator starts."""

    def __init__(self, store: Store, data_dir: Path, interval: float = 0.5) -> None:
        self.store = store
        self.data_dir = data_dir
        self.interval = interval
        self.blobs = data_dir / "s3" / "objects"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._manifest: dict[str, Any] = {}
        self._topics: dict[str, list[str]] = {}
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # Restore -------------------------------------------------------------------------------------

    def restore(self) -> None:
        """Load saved S3 objects, SNS topics and control-plane state (S3 first: endpoints load from it)."""
        manifest_path = self.data_dir / "s3" / "manifest.json"
        if manifest_path.exists():
            self._manifest = json.loads(manifest_path.read_text())
            for bucket, body in self._manifest.items():
                s3io.ensure_bucket(bucket, body["region"])
                for key, entry in body["objects"].items():
                    s3io.put_bytes(bucket, key, (self.blobs / entry["blob"]).read_bytes())
        topics_path = self.data_dir / "sns_topics.json"
        if topics_path.exists():
            self._topics = json.loads(topics_path.read_text())
            for region, names in self._topics.items():
                for name in names:
                    sns_backends[ACCOUNT_ID][region].create_topic(name)
        state_path = self.data_dir / "state.json"
        if state_path.exists():
            self.store.restore(json.loads(state_path.read_text()))
        s3io.s3_changed.clear()
        self.store.changed.clear()

    # Save ----------------------------------------------------------------------------------------

    def save(self) -> None:
        """Write whatever changed since the last save."""
        if self.store.changed.is_set():
            self.store.changed.clear()
            snapshot = json.dumps(self.store.snapshot(), sort_keys=True).encode()
            _write_atomically(self.data_dir / "state.json", snapshot)
        if s3io.s3_changed.is_set():
            s3io.s3_changed.clear()
            try:
                self._save_s3()
            except RuntimeError:  # a bucket changed while we walked it: try again next round
                s3io.s3_changed.set()
        self._save_topics()

    def _save_s3(self) -> None:
        manifest: dict[str, Any] = {}
        for bucket in s3io.bucket_names():
            known = self._manifest.get(bucket, {}).get("objects", {})
            objects = {}
            for key in s3io.list_keys(bucket, ""):
                etag = s3io.object_etag(bucket, key)
                if etag is None:
                    continue
                blob = hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()
                if known.get(key, {}).get("etag") != etag:
                    _write_atomically(self.blobs / blob, s3io.get_bytes(bucket, key))
                objects[key] = {"etag": etag, "blob": blob}
            manifest[bucket] = {"region": s3io.bucket_region(bucket), "objects": objects}
        kept = {entry["blob"] for body in manifest.values() for entry in body["objects"].values()}
        for path in self.blobs.iterdir():
            if path.name not in kept and not path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)
        _write_atomically(self.data_dir / "s3" / "manifest.json", json.dumps(manifest).encode())
        self._manifest = manifest

    def _save_topics(self) -> None:
        topics: dict[str, list[str]] = {}
        for region in list(sns_backends[ACCOUNT_ID].keys()):
            names = sorted(arn.rsplit(":", 1)[-1] for arn in list(sns_backends[ACCOUNT_ID][region].topics))
            if names:
                topics[region] = names
        if topics != self._topics:
            _write_atomically(self.data_dir / "sns_topics.json", json.dumps(topics).encode())
            self._topics = topics

    # Background ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Save in a background thread every `interval` seconds until stop()."""
        self._thread = threading.Thread(target=self._loop, name="emulator-persist", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.save()
            except OSError as exc:
                log.error("saving the emulator state failed: %s", exc)

    def stop(self) -> None:
        """Stop the thread and save one last time."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        self.save()
