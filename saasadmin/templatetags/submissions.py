"""`{% submit_key %}`: the hidden key that makes a write form act once (see saasadmin.submissions)."""

from __future__ import annotations

import uuid
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from saasadmin.submissions import SUBMIT_FIELD, posted_key

register = template.Library()


@register.simple_tag(takes_context=True)
def submit_key(context: dict[str, Any]) -> SafeString:
    """A fresh key per form; a page shown again in answer to a POST (errors, a plan) keeps that POST's key."""
    key = posted_key(context.get("request")) or uuid.uuid4()
    return format_html('<input type="hidden" name="{}" value="{}">', SUBMIT_FIELD, key)
