"""Peak RSS of the web process while it takes a 600 MB model upload, above its idle RSS.

    DEBUG=0 HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/upload_memory.py [--mb 600]
        [--servers gunicorn,runserver]

A signed-in operator sends one model.tar.gz (a real xgboost-model and incompressible padding, `--mb` in all)
through the upload page of a real web server, streamed from disk by a plain HTTP client, twice per server:
- refused: the default limit (MODEL_PACKAGE_MAX_BYTES, 512 MB) is below it;
- accepted: the limit raised above it, so that the whole path runs: temporary file, the one-pass archive
  check, the PutObject to S3 (the emulator, in its own process).
Servers: gunicorn with one sync worker (production) and runserver (`make run`). The server's process tree is
sampled every 20 ms; its idle RSS is measured after a small upload has warmed it up (imports, clients).
It uses a throwaway SQLite file and its own emulator, so it never touches real data. Last line:
`upload_rss_above_idle_mb=<the largest of the runs>`.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import psutil
from _ports import free_port, wait_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUCKET = "saasadmin-bench"
MB = 1024 * 1024
SERVERS = {
    "gunicorn": ["-m", "gunicorn", "saasadmin.wsgi", "--workers", "1", "--timeout", "600", "--bind"],
    "runserver": [str(ROOT / "manage.py"), "runserver", "--noreload"],
}


def _environment(scratch: Path, emulator_url: str) -> dict[str, str]:
    """The settings of the bench's processes (this one included: it prepares the database)."""
    os.environ.update(
        {
            "DATA_DIR": str(scratch),
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
            "AWS_MODE": "emulated",
            "EMULATOR_URL": emulator_url,
            "SAASADMIN_BUCKET": BUCKET,
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "saasadmin.settings",
            "DEBUG": "0",
            "HTTPS": "0",
            "STATIC_MANIFEST": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only",
        }
    )
    return {**os.environ}


def _prepare(scratch: Path, size_mb: int) -> tuple[Path, Path]:
    """The database with an operator, and the archives: (a small one to warm up, the large one)."""
    import django

    django.setup()
    from django.core.management import call_command

    from emulator import artifacts
    from tenants.roles import Role
    from tests.factories import make_user

    call_command("migrate", verbosity=0)
    make_user(Role.OPERATOR, username="bench", is_staff=True)
    with tarfile.open(fileobj=io.BytesIO(artifacts.xgboost_artifact("shared")), mode="r:gz") as model:
        weights = model.extractfile("xgboost-model").read()  # type: ignore[union-attr]
    small, large = scratch / "small.tar.gz", scratch / "large.tar.gz"
    _archive(small, weights, 0)
    _archive(large, weights, size_mb * MB)
    return small, large


def _archive(path: Path, weights: bytes, padding: int) -> None:
    """xgboost-model and `padding` random bytes (incompressible, as model weights are), gzip-compressed."""
    with tarfile.open(path, mode="w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(weights)
        archive.addfile(info, io.BytesIO(weights))
        if padding:
            info = tarfile.TarInfo("weights.bin")
            info.size = padding
            archive.addfile(info, _RandomReader(padding))


class _RandomReader:
    """`size` random bytes, handed out as read."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return os.urandom(size)


class Browser:
    """Cookies and CSRF tokens over http.client: just enough to sign in and send a form."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    def _send(self, method: str, path: str, headers: dict[str, str], body: Iterable[bytes] = ()) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.putrequest(method, path)
        for name, value in {**headers, "Cookie": cookie}.items():
            connection.putheader(name, value)
        connection.endheaders()
        for chunk in body:
            connection.send(chunk)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode(errors="replace")
        connection.close()
        self.status = response.status
        return text

    def token(self, page: str, name: str) -> str:
        found = re.search(rf'name="{name}" value="([^"]+)"', page)
        return found.group(1) if found else ""

    def sign_in(self, password: str) -> None:
        page = self._send("GET", "/accounts/login/", {})
        token = self.token(page, "csrfmiddlewaretoken")
        body = f"username=bench&password={password}&csrfmiddlewaretoken={token}".encode()
        form = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}
        self._send("POST", "/accounts/login/", form, [body])
        if self.status != 302:
            raise RuntimeError("could not sign in")

    def upload(self, archive: Path) -> int:
        """Send `archive` through the upload form, streamed from disk; the answer's status."""
        page = self._send("GET", "/models/", {})
        boundary = uuid.uuid4().hex
        fields = {
            "csrfmiddlewaretoken": self.token(page, "csrfmiddlewaretoken"),
            "submit_key": self.token(page, "submit_key"),
            "tenant": "",
            "framework": "xgboost",
            "version": "3.0-5",
        }
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="model.tar.gz"\r\n'
            "Content-Type: application/gzip\r\n\r\n"
        )
        tail = f"\r\n--{boundary}--\r\n".encode()
        length = len(head.encode()) + archive.stat().st_size + len(tail)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)}
        self._send("POST", "/models/upload/", headers, _parts(head.encode(), archive, tail))
        return self.status


def _parts(head: bytes, archive: Path, tail: bytes) -> Iterator[bytes]:
    yield head
    with archive.open("rb") as source:
        while chunk := source.read(MB):
            yield chunk
    yield tail


class Sampler:
    """The largest RSS of a process tree while the `with` block runs."""

    def __init__(self, pid: int) -> None:
        self.root, self.peak, self._done = psutil.Process(pid), 0, threading.Event()

    def rss(self) -> int:
        tree = [self.root, *self.root.children(recursive=True)]
        return sum(process.memory_info().rss for process in tree)

    def __enter__(self) -> Sampler:
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, self.rss())

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def _run(server: str, limit_mb: int, env: dict[str, str], small: Path, large: Path) -> tuple[float, int]:
    """One server with MODEL_PACKAGE_MAX_BYTES at `limit_mb`: (MB above idle during the upload, status)."""
    from tests.factories import PASSWORD

    port = free_port()
    command = [sys.executable, *SERVERS[server], f"127.0.0.1:{port}"]
    env = {**env, "MODEL_PACKAGE_MAX_BYTES": str(limit_mb * MB)}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_port(port, process)
        browser = Browser(port)
        browser.sign_in(PASSWORD)
        if browser.upload(small) != 302:
            raise RuntimeError(f"{server}: the warm-up upload was not accepted")
        time.sleep(1)
        with Sampler(process.pid) as sampler:
            idle = sampler.peak
            status = browser.upload(large)
        return (sampler.peak - idle) / MB, status
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=600, help="size of the large upload")
    parser.add_argument("--servers", default="gunicorn,runserver")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    port = free_port()
    emulator = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port)], cwd=ROOT)
    try:
        wait_port(port, emulator)
        env = _environment(scratch, f"http://127.0.0.1:{port}")
        small, large = _prepare(scratch, args.mb)
        print(f"upload={large.stat().st_size / MB:.0f} MB (compressed)")
        worst = 0.0
        for server in args.servers.split(","):
            # The default limit, or half the upload when that is smaller, and one above the upload.
            for case, limit_mb in (
                ("refused", 512 if args.mb > 512 else args.mb // 2),
                ("accepted", args.mb + 100),
            ):
                above, status = _run(server, limit_mb, env, small, large)
                expected = {"refused": 413, "accepted": 302}[case]
                note = "" if status == expected else f" (expected {expected})"
                print(f"{server} {case} (limit {limit_mb} MB): status={status}{note}", end=" ")
                print(f"rss_above_idle_mb={above:.1f}")
                worst = max(worst, above)
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"upload_rss_above_idle_vs_upload_size={worst / args.mb:.3f}")
    print(f"upload_rss_above_idle_mb={worst:.1f}")


if __name__ == "__main__":
    main()
