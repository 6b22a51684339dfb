"""The demo's steady trickle of predictions: each demo tenant's software calling the real HTTP API.

`manage.py demo_traffic` (a child of `make run`) runs `traffic_round` every few seconds: one prediction per
tenant with its demo token (tenants/demo.py), and the outcome of its earlier asynchronous predictions. The
requests go over HTTP to the web server like any client's, so the API meters them and the usage pages
fill up. Never started by the tests, which call `traffic_round` with a sender of their own.
"""

from __future__ import annotations

import json
import logging
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

PREDICT = "/api/v1/predict"
# (method, path, headers, body) → (status, body); status 0: the server did not answer.
Send = Callable[[str, str, dict[str, str], bytes], tuple[int, bytes]]
HTTP_TIMEOUT_SECONDS = 70  # SageMaker gives a model 60 s; the API's own read timeout is 65 s


@dataclass
class Traffic:
    """The callers: each tenant's token, and the asynchronous predictions still to be fetched."""

    tokens: dict[str, str]  # tenant slug → API token
    pending: dict[str, str] = field(default_factory=dict)  # inference id → tenant slug


def churn_rows(rng: random.Random, count: int) -> bytes:
    """`count` CSV rows shaped like the demo models' features (tenure, charges, tickets, logins, …)."""
    rows = [
        [
            rng.randint(1, 71),
            round(min(200.0, max(10.0, rng.gauss(70, 25))), 2),
            rng.randint(0, 4),
            round(rng.gammavariate(2.0, 2.0), 1),
            rng.choice((1, 12, 24)),
            rng.randint(0, 1),
        ]
        for _ in range(count)
    ]
    return "\n".join(",".join(str(value) for value in row) for row in rows).encode()


def traffic_round(traffic: Traffic, send: Send, rng: random.Random) -> dict[str, list[int]]:
    """One round: a prediction per tenant, then its pending async outcomes; the statuses, per tenant."""
    statuses: dict[str, list[int]] = {}
    for slug, secret in traffic.tokens.items():
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "text/csv"}
        status, body = send("POST", PREDICT, headers, churn_rows(rng, rng.randint(1, 5)))
        statuses.setdefault(slug, []).append(status)
        if status == 202:
            traffic.pending[json.loads(body)["inference_id"]] = slug
    for inference_id, slug in list(traffic.pending.items()):
        secret = traffic.tokens.get(slug, "")
        status, _ = send(
            "GET", f"/api/v1/predictions/{inference_id}", {"Authorization": f"Bearer {secret}"}, b""
        )
        statuses.setdefault(slug, []).append(status)
        if status != 202:  # done (a result or a failure), or no longer reachable: stop asking
            del traffic.pending[inference_id]
    return statuses


def http_sender(base_url: str) -> Send:
    """A Send over HTTP to the web server at `base_url` (a client like any tenant's software)."""

    def send(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - the local web server's URL
            base_url.rstrip("/") + path,
            data=body if method == "POST" else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            log.info("demo traffic: %s %s did not answer: %s", method, path, exc)
            return 0, b""

    return send
