"""The API's tokens, kept in each web process: a request with a known token makes no database query.

An entry is keyed by the keyed hash of the whole secret (`token_hash`), so only the exact secret that
was checked against the database finds it: a different secret, even with the same prefix, is a miss,
and an entry holds one token and the tenant it belongs to, never another's.

An entry is trusted only while the tokens' generation in Redis (tenants/token_generation.py) still reads
what it read *before* the token was loaded: the API's gate (deployments/api_gate.py) compares the two in
the same Redis round trip that notes the token's use and takes the rate limit. Revoking a token, or
suspending, offboarding or editing its tenant, moves the generation on, so every process re-reads the
database on its next request. Expiry is checked on every request from the entry itself. And no entry
is kept past TOKEN_CACHE_MAX_AGE, in case a change reached the database some other way (a shell).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from tenants.models_tokens import TenantToken
from tenants.token_generation import generation_read
from tenants.tokens import secret_parse, token_expiry_check, token_hash, token_lookup

log = logging.getLogger(__name__)

TOKEN_CACHE_MAX_AGE = 60.0  # seconds: a bound on staleness for changes that bypassed the services
TOKEN_CACHE_MAX_ENTRIES = 10_000  # a process's entries are dropped all at once past this (rare, cheap)


@dataclass(frozen=True)
class Identity:
    """A token checked against the database, with the generation read before that check."""

    token: TenantToken  # its tenant loaded
    prefix: str
    digest: str
    generation: str  # "" when Redis did not answer: such an identity is never cached
    loaded_at: float

    @property
    def cached(self) -> bool:
        return bool(self.generation)


_entries: dict[str, Identity] = {}


def token_identify(authorization_header: str | None) -> Identity:
    """The token an `Authorization: Bearer …` header names, from this process's cache when it has it.

    A cached identity may be stale until the gate compares its generation; expiry is checked here.
    Raises TokenRefused as `token_authenticate` does.
    """
    prefix, secret = secret_parse(authorization_header)
    digest = token_hash(secret)
    entry = _entries.get(digest)
    if entry is not None and time.monotonic() - entry.loaded_at < TOKEN_CACHE_MAX_AGE:
        try:
            token_expiry_check(entry.token)
        except Exception:
            _entries.pop(digest, None)
            raise
        return entry
    return identity_load(prefix, digest)


def identity_load(prefix: str, digest: str, *, cache: bool = True) -> Identity:
    """Check the token against the database (one query) and, when Redis answers, keep it."""
    _entries.pop(digest, None)
    generation = ""
    if cache:
        try:
            generation = generation_read()
        except redis.RedisError as exc:
            log.warning("API token cache not used, Redis did not answer: %s", exc)
    token = token_lookup(prefix, digest)  # after reading the generation: see the module docstring
    identity = Identity(token, prefix, digest, generation, time.monotonic())
    if identity.cached:
        if len(_entries) >= TOKEN_CACHE_MAX_ENTRIES:
            _entries.clear()
        _entries[digest] = identity
    return identity


def identity_reload(identity: Identity, *, cache: bool = True) -> Identity:
    """The same secret checked against the database again (its entry was stale)."""
    return identity_load(identity.prefix, identity.digest, cache=cache)


def token_cache_forget() -> None:
    """Empty this process's cache (tests that change rows behind the services' back)."""
    _entries.clear()
