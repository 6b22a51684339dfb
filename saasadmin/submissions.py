"""Each write form acts once: a repeated or concurrent send gets the first outcome, never a second write.

Pages put a fresh key in every write form (`{% submit_key %}`, from `saasadmin.templatetags.submissions`)
and the views that write are decorated with `submit_once`. The first POST carrying a key claims it — a row
under a unique constraint, so a concurrent copy cannot claim it too — and runs the view:

- the view answers with a redirect (done, or refused with a message): that is the form's outcome, kept;
- the view answers the page again (errors to fix, a plan to confirm) or fails: the key is released, so the
  corrected form can be sent with it.

A later POST with a claimed key — a double click, the browser's Back and send again — writes nothing and is
sent to the outcome with a message saying so. A copy that arrives while the first is still being worked on
waits for it (up to `SUBMIT_WAIT_SECONDS`) and then does the same. A POST without a key (an old page, a
script) runs the view as before: the services' own checks and unique constraints still hold.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from saasadmin.models import FormSubmission

V = TypeVar("V", bound=Callable[..., HttpResponseBase])
SUBMIT_FIELD = "submit_key"
POLL_SECONDS = 0.1
# A claim still in progress after this long belongs to a process that died: the key is free again.
ABANDONED_AFTER = timedelta(minutes=15)
# Claims are kept this long: a page older than that sent again acts again (its own checks still apply).
KEPT_FOR = timedelta(days=2)

REPEATED = (
    "This form was already sent (a second click, or sent again after going back), so nothing was done "
    "a second time. Here is the result of the first."
)
STILL_RUNNING = (
    "This form was sent twice and the first is still being worked on, so nothing was done a second time. "
    "Its result will show on the page it leads to."
)


def posted_key(request: HttpRequest | None) -> uuid.UUID | None:
    """The key of the form this POST carries, or None (not a POST, no key, or not a key)."""
    if request is None or request.method != "POST":
        return None
    try:
        return uuid.UUID(str(request.POST.get(SUBMIT_FIELD, "")))
    except ValueError:
        return None


def submit_once(view: V) -> V:
    """Decorate a view that writes: each sent form is acted on once (see the module's docstring)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = posted_key(request)
        if key is None:
            return view(request, *args, **kwargs)
        earlier = _claim(request, key)
        if earlier is not None:
            return _repeat(request, earlier)
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            _release(key)
            raise
        _settle(key, response)
        return response

    wrapped.submit_once = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def _wait_seconds() -> float:
    return float(getattr(settings, "SUBMIT_WAIT_SECONDS", 10.0))


def _claim(request: HttpRequest, key: uuid.UUID) -> FormSubmission | None:
    """Claim `key` for this request (None); else the submission holding it, once done or waited for."""
    deadline = time.monotonic() + _wait_seconds()
    while True:
        if _insert(request, key):
            return None
        earlier = _wait_for(key, deadline)
        if earlier is not None:
            return earlier
        # The first send came back with errors and let the key go (or died): this one may act.


def _insert(request: HttpRequest, key: uuid.UUID) -> bool:
    """Claim the key: True, or False when another send holds it (the unique constraint refused)."""
    user = request.user if request.user.is_authenticated else None
    try:
        with transaction.atomic():
            FormSubmission.objects.create(key=key, user=user, path=request.path[:300])
    except IntegrityError:
        return False
    FormSubmission.objects.filter(created_at__lt=timezone.now() - KEPT_FOR).delete()
    return True


def _wait_for(key: uuid.UUID, deadline: float) -> FormSubmission | None:
    """The submission holding `key` once it is done (or at the deadline); None when the key was let go."""
    while True:
        try:
            earlier = FormSubmission.objects.filter(key=key).first()
        except OperationalError:  # SQLite busy with the first send's write: look again
            earlier = FormSubmission(key=key, created_at=timezone.now())
        if earlier is None:
            return None
        if earlier.finished_at is None and earlier.created_at < timezone.now() - ABANDONED_AFTER:
            FormSubmission.objects.filter(pk=earlier.pk, finished_at__isnull=True).delete()
            return None
        if earlier.finished_at is not None or time.monotonic() >= deadline:
            return earlier
        time.sleep(POLL_SECONDS)


def _release(key: uuid.UUID) -> None:
    FormSubmission.objects.filter(key=key, finished_at__isnull=True).delete()


def _settle(key: uuid.UUID, response: HttpResponseBase) -> None:
    """A redirect is the form's outcome; any other answer shows the form again, so the key is let go."""
    if 300 <= response.status_code < 400 and response.has_header("Location"):
        FormSubmission.objects.filter(key=key).update(
            outcome_url=response["Location"], finished_at=timezone.now()
        )
    else:
        _release(key)


def _repeat(request: HttpRequest, earlier: FormSubmission) -> HttpResponseBase:
    """Send a repeat to where the first send led, saying that nothing was done twice."""
    mine = earlier.user_id == (request.user.pk if request.user.is_authenticated else None)
    messages.info(request, REPEATED if earlier.finished_at is not None else STILL_RUNNING)
    if earlier.finished_at is not None and mine:
        return redirect(earlier.outcome_url)
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
        return redirect(referer)
    return redirect(reverse("home"))
