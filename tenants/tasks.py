"""RQ jobs of the tenants app: each calls one service."""

from __future__ import annotations

from tenants.token_usage import token_last_used_flush


def tokens_last_used_flush() -> dict[str, int]:
    """The cron's minute job (saasadmin/cron.py): API tokens' last-use times from Redis to the database."""
    return {"updated": token_last_used_flush()}
