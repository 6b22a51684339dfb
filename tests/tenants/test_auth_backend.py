"""The sign-in backend reads the user, their membership and unread count in one query, and still reads
them afresh on every request: a change made anywhere shows on the next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.access import membership_of
from tenants.auth_backend import PATH, MembershipBackend
from tenants.models import Membership
from tenants.notices import notice_send, notices_unread
from tenants.roles import Role
from tests.factories import make_tenant, make_user, sign_in

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_a_signed_in_page_reads_the_user_membership_and_bell_in_one_query(client):
    tenant = make_tenant()
    user = make_user(Role.TENANT_ADMIN, tenant)
    assert sign_in(client, user.username)
    queries = _queries(client, reverse("notices"))
    # The session, the user (membership, tenant and unread count joined in), the notices listed.
    assert len(queries) == 3, queries
    assert "tenants_membership" in queries[1]
    assert "tenants_notice" in queries[1]
    assert client.session["_auth_user_backend"] == PATH


def test_a_role_change_made_elsewhere_counts_on_the_next_request(client):
    user = make_user(Role.OPERATOR)
    assert sign_in(client, user.username)
    assert client.get(reverse("tenant_list")).status_code == 200
    Membership.objects.filter(user=user).update(role=Role.FINANCE)  # another process, say
    assert client.get(reverse("tenant_onboard")).status_code == 403


def test_the_bell_counts_a_notice_told_since_the_last_request_and_clears_once_read(client):
    tenant = make_tenant()
    user = make_user(Role.TENANT_ADMIN, tenant)
    assert sign_in(client, user.username)
    assert b"bell-count" not in client.get(reverse("notices")).content
    notice_send(
        users=[user],
        tenant=tenant,
        key="run:1:completed",
        level="success",
        title="Run 1 finished",
        body="",
        url="",
    )
    page = client.get(reverse("notices")).content.decode()
    assert 'aria-label="Notices: 1 unread"' in page
    client.post(reverse("notices_read"))
    assert b"bell-count" not in client.get(reverse("notices")).content


def test_a_deactivated_user_is_signed_out_on_the_next_request(client):
    user = make_user(Role.OPERATOR)
    assert sign_in(client, user.username)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(reverse("tenant_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_user_without_a_role_is_read_with_no_membership():
    user = make_user(Role.OPERATOR)
    Membership.objects.filter(user=user).delete()
    found = MembershipBackend().get_user(user.pk)
    assert found == user
    assert membership_of(found) is None
    assert notices_unread(found) == 0


def _fields(instance: Any) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_it_reads_the_same_user_membership_and_tenant_as_the_orm():
    tenant = make_tenant()
    user = make_user(Role.TENANT_VIEWER, tenant)
    found = MembershipBackend().get_user(user.pk)
    expected = Membership.objects.select_related("user", "tenant").get(user=user)
    assert _fields(found) == _fields(expected.user)
    assert _fields(membership_of(found)) == _fields(expected)
    assert _fields(membership_of(found).tenant) == _fields(expected.tenant)
    assert membership_of(found).user is found
    assert MembershipBackend().get_user(10**9) is None
    assert MembershipBackend().get_user("not a number") is None
