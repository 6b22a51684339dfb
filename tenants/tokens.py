"""Tenant API tokens: create, revoke, and authenticate the `Authorization: Bearer sa_…` header.

A secret reads `sa_<prefix>_<random>`: the prefix (8 hex characters) is stored in clear to find the row
with one indexed query and to name the token on pages; the whole secret is stored only as a keyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.audit import audit_record
from tenants.models import TenantStatus
from tenants.models_tokens import TenantToken
from tenants.token_generation import tokens_changed
from tenants.token_usage import token_used

SCHEME_MARK = "sa"
PREFIX_HEX_BYTES = 4  # 8 hex characters: 2^32 prefixes, a collision is retried at creation
_PREFIX_SHAPE = re.compile(f"[0-9a-f]{{{PREFIX_HEX_BYTES * 2}}}")
RANDOM_BYTES = 32  # 256 bits of randomness, 43 url-safe characters


class TokenRefused(Exception):
    """The API refuses a request's token: `status` (401/403), a stable `code` and a sentence for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@lru_cache(maxsize=4)
def _hash_key(secret_key: str, token_key: str) -> bytes:
    """The HMAC key: TENANT_TOKEN_KEY if set, else one derived from SECRET_KEY for this purpose only."""
    if token_key:
        return token_key.encode()
    return hmac.new(secret_key.encode(), b"saasadmin.tenant-token-hash", hashlib.sha256).digest()


def token_hash(secret: str) -> str:
    """The stored form of a secret: HMAC-SHA256 with a server-side key.

    A fast keyed hash is right here, unlike for passwords: the secret carries 256 random bits, so there
    is nothing to guess and no dictionary to try, and a slow hash (PBKDF2, bcrypt, argon2) would add
    milliseconds to every API call, which has a ~2 ms budget. The key means a leaked database alone does
    not even let anyone check a candidate secret.
    """
    key = _hash_key(settings.SECRET_KEY, settings.TENANT_TOKEN_KEY)
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def _secret_new() -> tuple[str, str]:
    prefix = secrets.token_hex(PREFIX_HEX_BYTES)
    return prefix, f"{SCHEME_MARK}_{prefix}_{secrets.token_urlsafe(RANDOM_BYTES)}"


def token_create(
    *, actor: Any, tenant: Any, name: str, expires_at: datetime | None = None
) -> tuple[TenantToken, str]:
    """Create a named token for `tenant`; returns the row and the full secret, which is never shown again.

    ValidationError when the tenant is leaving, the name is empty or the expiry is not in the future.
    """
    if tenant.is_leaving:
        raise ValidationError("A tenant that is being offboarded cannot get new API tokens.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Choose an expiry in the future, or leave it empty."})
    for _attempt in range(3):
        prefix, secret = _secret_new()
        try:
            return _token_insert(
                actor=actor,
                tenant=tenant,
                name=name.strip(),
                prefix=prefix,
                secret=secret,
                expires_at=expires_at,
            ), secret
        except IntegrityError:  # the one unique column is the prefix: draw another
            continue
    raise RuntimeError("Could not draw an unused token prefix three times in a row.")


@transaction.atomic
def _token_insert(
    *, actor: Any, tenant: Any, name: str, prefix: str, secret: str, expires_at: datetime | None
) -> TenantToken:
    token = TenantToken(
        tenant=tenant,
        name=name,
        prefix=prefix,
        secret_hash=token_hash(secret),
        created_by=actor if getattr(actor, "pk", None) else None,
        expires_at=expires_at,
    )
    token.full_clean(validate_unique=False)
    token.save()
    after = {"name": name, "prefix": prefix, "expires_at": expires_at.isoformat() if expires_at else None}
    audit_record(actor=actor, action="token.create", obj=token, tenant=tenant, after=after)
    return token


@transaction.atomic
def token_revoke(*, actor: Any, token: TenantToken, reason: str = "") -> None:
    """Revoke a token at once (a compare-and-set: revoking twice records one event)."""
    now = timezone.now()
    updated = TenantToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor if getattr(actor, "pk", None) else None
    )
    if not updated:
        raise ValidationError(f"The token “{token.name}” was already revoked.")
    token.revoked_at = now
    tokens_changed()  # the API's caches in every process drop it on their next request
    after = {"name": token.name, "prefix": token.prefix}
    if reason:
        after["reason"] = reason
    audit_record(actor=actor, action="token.revoke", obj=token, tenant=token.tenant, after=after)


def token_is_active(token: TenantToken, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def secret_parse(authorization_header: str | None) -> tuple[str, str]:
    """(prefix, secret) from `Bearer sa_<prefix>_<random>`; TokenRefused(401) for anything else."""
    if not authorization_header:
        raise TokenRefused(
            401, "token_missing", "Send your API token in the Authorization header: “Bearer sa_…”."
        )
    scheme, _, secret = authorization_header.strip().partition(" ")
    parts = secret.strip().split("_", 2)
    if (
        scheme.lower() != "bearer"
        or len(parts) != 3
        or parts[0] != SCHEME_MARK
        or not _PREFIX_SHAPE.fullmatch(parts[1])  # checked before any query: PostgreSQL refuses NUL
        or not parts[2]
    ):
        raise TokenRefused(
            401, "token_invalid", "The Authorization header must read “Bearer sa_…” with a tenant API token."
        )
    return parts[1], secret.strip()


def token_authenticate(authorization_header: str | None) -> TenantToken:
    """The active token named by an `Authorization: Bearer …` header, its tenant loaded (one query).

    Raises TokenRefused: 401 token_missing / token_invalid / token_revoked / token_expired, and
    403 tenant_suspended. A tenant being offboarded has its tokens revoked, so they read as revoked.
    The API itself goes through tenants/token_cache.py, which calls `token_lookup` on a cache miss.
    """
    prefix, secret = secret_parse(authorization_header)
    token = token_lookup(prefix, token_hash(secret))
    token_used(token)
    return token


def token_lookup(prefix: str, digest: str) -> TenantToken:
    """The active token whose prefix and keyed hash (`token_hash`) these are, its tenant loaded (one query).

    Raises TokenRefused as `token_authenticate` does.
    """
    # Unordered: `.first()` would add the model's ORDER BY, a third of this query's cost in Django.
    found = TenantToken.objects.select_related("tenant").filter(prefix=prefix).order_by()[:1]
    token = next(iter(found), None)
    # Compare even when no row matched, so a wrong prefix takes as long as a wrong secret.
    stored = token.secret_hash if token is not None else "0" * 64
    if not hmac.compare_digest(digest, stored) or token is None:
        raise TokenRefused(
            401, "token_invalid", "This API token is not valid: check that it was copied whole."
        )
    if token.revoked_at is not None or token.tenant.is_leaving:
        raise TokenRefused(
            401, "token_revoked", f"The API token “{token.name}” was revoked; create a new one."
        )
    token_expiry_check(token)
    if token.tenant.status == TenantStatus.SUSPENDED:
        raise TokenRefused(
            403,
            "tenant_suspended",
            f"{token.tenant.name} is suspended: its API tokens work again once resumed.",
        )
    return token


def token_expiry_check(token: TenantToken) -> None:
    """TokenRefused(401 token_expired) once the token's expiry has passed."""
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise TokenRefused(
            401,
            "token_expired",
            f"The API token “{token.name}” expired; create a new one on your tenant page.",
        )


def tokens_revoke_all(*, actor: Any, tenant: Any, reason: str) -> int:
    """Revoke every active token of `tenant` (offboarding), one audit event each; returns how many."""
    active = TenantToken.objects.filter(tenant=tenant, revoked_at__isnull=True).select_related("tenant")
    count = 0
    for token in active:
        try:
            token_revoke(actor=actor, token=token, reason=reason)
        except ValidationError:  # revoked meanwhile by someone else: already what we want
            continue
        count += 1
    return count
