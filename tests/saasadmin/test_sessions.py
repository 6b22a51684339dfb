"""The session store reads a session as Django's database store does: unexpired, by key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from saasadmin.sessions import SessionStore
from tenants.roles import Role
from tests.factories import make_user, sign_in

pytestmark = pytest.mark.django_db


def test_it_reads_what_django_s_database_store_reads() -> None:
    store = SessionStore()
    store.update({"answer": 42, "when": "today"})
    store.save()
    assert SessionStore(session_key=store.session_key).load() == {"answer": 42, "when": "today"}
    assert db.SessionStore(session_key=store.session_key).load() == {"answer": 42, "when": "today"}


def test_an_expired_or_unknown_session_is_empty_and_forgets_its_key() -> None:
    store = SessionStore()
    store["answer"] = 42
    store.save()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(session_key=store.session_key)
    assert expired.load() == {}
    assert expired.session_key is None
    assert SessionStore(session_key="no-such-session-key").load() == {}


def test_signing_in_and_out_goes_through_it(client) -> None:
    user = make_user(Role.OPERATOR)
    assert sign_in(client, user.username)
    assert client.get(reverse("tenant_list")).status_code == 200
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(pk=key).exists()
    client.cookies["sessionid"] = key  # the old cookie, replayed
    assert client.get(reverse("tenant_list")).status_code == 302
