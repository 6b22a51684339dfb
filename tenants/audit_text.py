"""The audit log in words: one sentence per event, with AWS internals for vendor staff only.

Each action has phrases (AUDIT_PHRASES) and each recorded field a label (AUDIT_FIELDS). Apps add their
own from their AppConfig.ready() through `audit_vocabulary_add` (deployments: its actions and the labels
of its settings), as they plug into tenants.extensions; tenants imports none of them. An action nobody
described still reads as a sentence, its fields as words, and only vendor staff see those fields: a field
nobody labelled may be an AWS internal.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.apps import apps

from tenants.models import AuditEvent, Currency, Isolation, TenantStatus, Tier
from tenants.roles import Role
from tenants.templatetags.tenant_tags import money

# A value and the snapshot it was recorded in (a price needs its currency) → words.
ValueText = Callable[[Any, Mapping[str, Any]], str]
HIDDEN_CHANGES = "the infrastructure settings"


@dataclass(frozen=True)
class AuditField:
    """How a recorded field reads: `label` ("instance count"), its value in words, and whether it is an
    AWS internal (S3 URI, ARN, instance type, AWS name, raw setting) that tenant members do not see.

    `lookup` turns the ids a page shows into names with one query per page (e.g. model packages).
    """

    label: str
    internal: bool = False
    text: ValueText | None = None
    lookup: Callable[[set[str]], dict[str, str]] | None = None


@dataclass(frozen=True)
class AuditPhrase:
    """Sentences for one action, tried in order: the first whose {placeholders} all have a value the
    reader may see is used. Placeholders: actor, object, tenant, action, object_type, changes (“the plan
    price of Acme from $1.00 to $2.00”), change_list (the same without the object) and any recorded
    top-level field. `details` also lists the fields the sentence did not use."""

    sentences: tuple[str, ...]
    details: bool = False


@dataclass(frozen=True)
class AuditLine:
    """One event as a reader sees it: the event (time, tenant, action), its sentence, and details."""

    event: AuditEvent
    sentence: str
    details: tuple[str, ...] = ()


def choice_text(choices: type[Any], lower: bool = False) -> ValueText:
    """Words for a TextChoices value ("silo" → "Silo"); an unknown value reads as itself."""

    def text(value: Any, _snapshot: Mapping[str, Any]) -> str:
        label = dict(choices.choices).get(value, str(value))
        return label[:1].lower() + label[1:] if lower else label

    return text


def _price_text(value: Any, snapshot: Mapping[str, Any]) -> str:
    try:
        return money(Decimal(str(value)), str(snapshot.get("currency") or "USD"))
    except InvalidOperation:
        return str(value)


def _yes_no(value: Any, _snapshot: Mapping[str, Any]) -> str:
    return "yes" if value else "no"


def _moment_text(value: Any, _snapshot: Mapping[str, Any]) -> str:
    """An ISO timestamp as "27 Nov 2026 09:30 UTC"; anything else reads as itself."""
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).strftime("%-d %b %Y %H:%M UTC")
    except ValueError:
        return str(value)


AUDIT_FIELDS: dict[str, AuditField] = {
    "name": AuditField("name"),
    "slug": AuditField("slug"),
    "isolation": AuditField("isolation", text=choice_text(Isolation)),
    "tier": AuditField("tier", text=choice_text(Tier)),
    "plan_price": AuditField("plan price", text=_price_text),
    "currency": AuditField("currency", text=choice_text(Currency)),
    "contact_email": AuditField("contact email"),
    "status": AuditField("status", text=choice_text(TenantStatus)),
    "reason": AuditField("reason"),
    "role": AuditField("role", text=choice_text(Role, lower=True)),
    "email": AuditField("email"),
    "username": AuditField("user"),
    "is_active": AuditField("can sign in", text=_yes_no),
    "prefix": AuditField("prefix"),
    "expires_at": AuditField("expiry", text=_moment_text),
    "requests_per_second": AuditField("requests per second"),
    "burst": AuditField("burst"),
}

AUDIT_PHRASES: dict[str, AuditPhrase] = {
    "tenant.onboard": AuditPhrase(
        (
            "{actor} onboarded {object} as a {isolation} tenant on the {tier} tier.",
            "{actor} onboarded {object}.",
        )
    ),
    "tenant.update": AuditPhrase(("{actor} changed {changes}.",)),
    "tenant.active": AuditPhrase(("{actor} activated {object}: “{reason}”.", "{actor} activated {object}.")),
    "tenant.suspended": AuditPhrase(
        ("{actor} suspended {object}: “{reason}”.", "{actor} suspended {object}.")
    ),
    "tenant.offboarding": AuditPhrase(
        ("{actor} started offboarding {object}: “{reason}”.", "{actor} started offboarding {object}.")
    ),
    "tenant.offboarded": AuditPhrase(("{actor} finished offboarding {object}.",)),
    "user.create": AuditPhrase(("{actor} created the user {object} with the role {role}.",)),
    "user.invite": AuditPhrase(("{actor} invited {email} to join with the role {role}.",)),
    "user.join": AuditPhrase(("{actor} accepted an invitation and joined with the role {role}.",)),
    "user.remove": AuditPhrase(
        (
            "{actor} removed {username} from the tenant; the account can no longer sign in.",
            "{actor} removed {object} from the tenant; the account can no longer sign in.",
        )
    ),
    "user.invite_revoke": AuditPhrase(
        ("{actor} revoked the invitation for {email}.", "{actor} revoked an invitation ({object}).")
    ),
    "token.create": AuditPhrase(
        (
            "{actor} created the API token {object}, valid until {expires_at}.",
            "{actor} created the API token {object}, valid until revoked.",
        )
    ),
    "rate_limit.update": AuditPhrase(("{actor} changed {changes}.",)),
    "token.revoke": AuditPhrase(
        ("{actor} revoked the API token {object}: {reason}.", "{actor} revoked the API token {object}.")
    ),
}
FALLBACK = AuditPhrase(("{actor} did “{action}” on the {object_type} {object}.",), details=True)


def audit_vocabulary_add(
    *, phrases: Mapping[str, AuditPhrase] | None = None, fields: Mapping[str, AuditField] | None = None
) -> None:
    """Teach the audit log an app's actions and fields (from the app's AppConfig.ready())."""
    AUDIT_PHRASES.update(phrases or {})
    AUDIT_FIELDS.update(fields or {})


def audit_lines(events: Iterable[AuditEvent], *, internals: bool) -> list[AuditLine]:
    """Each event as a sentence; `internals`: the reader is vendor staff, who may see AWS internals."""
    events = list(events)
    names = _names(events)
    return [_Reading(event, internals, names).line() for event in events]


def and_join(items: list[str]) -> str:
    """["a", "b", "c"] → "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _blank(value: Any) -> bool:
    # "None": services record a missing foreign key as str(None).
    return value is None or value in ("", "None") or value == [] or value == {}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"settings": {"instance_count": 1}} → {"settings.instance_count": 1}."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _names(events: list[AuditEvent]) -> dict[str, dict[str, str]]:
    """For each field with a lookup, the names of the ids these events recorded (one query per field)."""
    lookups = {key: field.lookup for key, field in AUDIT_FIELDS.items() if field.lookup}
    wanted: dict[str, set[str]] = {}
    for event in events:
        for snapshot in (event.before, event.after):
            for key, value in _flatten(snapshot).items():
                if key in lookups and not _blank(value):
                    wanted.setdefault(key, set()).add(str(value))
    return {key: lookups[key](ids) for key, ids in wanted.items()}


def _plain(value: Any) -> str:
    """Words for a value nobody described: no dicts, lists or reprs."""
    if _blank(value):
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "; ".join(f"{_humanised(key)} {_plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value)
    return str(value)


def _humanised(key: str) -> str:
    return key.replace(".", " ").replace("_", " ").strip()


def _label(key: str) -> str:
    field = AUDIT_FIELDS.get(key)
    return field.label if field else _humanised(key)


def _ordered(keys: Iterable[str]) -> list[str]:
    """Described fields in the order they were described (as a form shows them), then the others."""
    order = {key: i for i, key in enumerate(AUDIT_FIELDS)}
    return sorted(keys, key=lambda key: (order.get(key, len(order)), key))


@cache
def _object_types() -> dict[str, str]:
    """model_name → verbose name ("modelpackage" → "model package"), for events of any app."""
    return {model._meta.model_name or "": str(model._meta.verbose_name) for model in apps.get_models()}


def _actor(event: AuditEvent) -> str:
    """The person's name when they gave one, else their username; "The system" for the system's work."""
    name = event.actor.get_full_name().strip() if event.actor is not None else ""
    if name:
        return name
    return "The system" if event.actor_id is None and event.actor_label == "system" else event.actor_label


def _sentence(sentences: tuple[str, ...], values: dict[str, str]) -> tuple[str, set[str]]:
    """The first sentence whose placeholders all have a value, and the placeholders it used."""
    for sentence in (*sentences, *FALLBACK.sentences):
        wanted = {name for _, name, _, _ in string.Formatter().parse(sentence) if name}
        if all(values.get(name) for name in wanted) or sentence in FALLBACK.sentences:
            return sentence.format_map({name: values.get(name, "") for name in wanted}), wanted
    raise AssertionError("unreachable: the fallback sentence always fits")


class _Reading:
    """One event prepared for one reader: its fields in words, split into what changed and the rest."""

    def __init__(self, event: AuditEvent, internals: bool, names: dict[str, dict[str, str]]) -> None:
        self.event, self.internals, self.names = event, internals, names
        self.phrase = AUDIT_PHRASES.get(event.action)
        self.before, self.after = _flatten(event.before), _flatten(event.after)

    def visible(self, key: str) -> bool:
        """Vendor staff see every field; members only described, non-internal fields of known actions."""
        field = AUDIT_FIELDS.get(key)
        return self.internals or (self.phrase is not None and field is not None and not field.internal)

    def text(self, key: str, value: Any, snapshot: Mapping[str, Any]) -> str:
        if _blank(value):
            return ""
        if key in self.names:
            return self.names[key].get(str(value), f"#{value}")
        field = AUDIT_FIELDS.get(key)
        return field.text(value, snapshot) if field and field.text else _plain(value)

    def split(self) -> tuple[list[str], dict[str, str]]:
        """The keys that changed (recorded before and after), and the other visible fields in words."""
        both = set(self.event.before) & set(self.event.after)
        changed: list[str] = []
        context: dict[str, str] = {}
        for key in _ordered(set(self.before) | set(self.after)):
            old, new = self.before.get(key), self.after.get(key)
            if key.split(".")[0] in both and old != new and not (_blank(old) and _blank(new)):
                changed.append(key)
            elif self.visible(key):
                side = self.after if key in self.after else self.before
                context[key] = self.text(key, side[key], side)
        return changed, context

    def change(self, key: str, obj: str = "") -> str:
        """“the instance count of Acme real-time from 1 to 2” (without `obj`: “the instance count from …”)."""
        old, new = self.before.get(key), self.after.get(key)
        of = f" of {obj}" if obj else ""
        start = f" from {self.text(key, old, self.before)}" if not _blank(old) else ""
        end = f" to {self.text(key, new, self.after)}" if not _blank(new) else " to none"
        return f"the {_label(key)}{of}{start}{end}"

    def arrow(self, key: str) -> str:
        """“instance count: 1 → 2”, for details under a sentence that did not say what changed."""
        old = self.text(key, self.before.get(key), self.before) or "none"
        return f"{_label(key)}: {old} → {self.text(key, self.after.get(key), self.after) or 'none'}"

    def changes(self, changed: list[str], obj: str = "") -> str:
        """The changes a reader may see in one phrase; the others read as “the infrastructure settings”."""
        shown = [key for key in changed if self.visible(key)]
        items = [self.change(key) for key in shown] + ([HIDDEN_CHANGES] if len(shown) < len(changed) else [])
        if not items:
            return f"{obj} (nothing changed)" if obj else "nothing"
        if not obj:
            return and_join(items)
        if len(items) > 1:
            return f"{obj}: {and_join(items)}"
        return self.change(shown[0], obj) if shown else f"{HIDDEN_CHANGES} of {obj}"

    def values(self, changed: list[str], context: dict[str, str]) -> dict[str, str]:
        """Every placeholder a sentence may use: the event's own, and the recorded top-level fields."""
        event = self.event
        return {
            **{key: text for key, text in context.items() if "." not in key},
            "actor": _actor(event),
            "object": event.object_repr,
            "tenant": event.tenant.name if event.tenant is not None else "",
            "action": _humanised(event.action.partition(".")[2] or event.action),
            "object_type": _object_types().get(event.object_type, _humanised(event.object_type)),
            "changes": self.changes(changed, event.object_repr),
            "change_list": self.changes(changed),
        }

    def line(self) -> AuditLine:
        phrase = self.phrase or FALLBACK
        changed, context = self.split()
        sentence, used = _sentence(phrase.sentences, self.values(changed, context))
        if not phrase.details:
            return AuditLine(self.event, sentence)
        details = [f"{_label(key)}: {text}" for key, text in context.items() if text and key not in used]
        if not used & {"changes", "change_list"}:
            details += [self.arrow(key) for key in changed if self.visible(key)]
        return AuditLine(self.event, sentence, tuple(details))
