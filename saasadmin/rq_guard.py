"""django-rq's dashboard views behind a check of their URL parameters.

django-rq looks a queue up by its position in a list, fetches jobs and workers without handling their
absence, and so answers a typed URL such as /rq/queues/1/ (one queue configured) with a 500 (IndexError,
NoSuchJobError, ValueError or a failed assertion). Checked here first, each is a 404 that says what is
missing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase
from django_rq.queues import get_queue_by_index
from django_rq.settings import get_queues_list
from rq.job import JOB_ID_PATTERN, Job
from rq.worker import Worker

View = Callable[..., HttpResponseBase]


def rq_missing(params: dict[str, Any]) -> str | None:
    """Why the queue, job or worker these URL parameters name does not exist; None when they all do."""
    index = params.get("queue_index")
    if index is None:
        return None
    queues = get_queues_list()
    if not 0 <= index < len(queues):
        return f"There is no queue number {index}: the dashboard has {len(queues)} (numbered from 0)."
    connection = get_queue_by_index(index).connection
    job_id = params.get("job_id")
    if job_id is not None and not (JOB_ID_PATTERN.fullmatch(job_id) and Job.exists(job_id, connection)):
        return "There is no such job: it may have finished and expired."
    key = params.get("key")
    if key is not None and not (
        key.startswith(Worker.redis_worker_namespace_prefix) and connection.exists(key)
    ):
        return "There is no such worker: it may have stopped."
    return None


def rq_params_checked(view: View) -> View:
    """Wrap a django-rq view: a 404 for a queue, job or worker that does not exist, before django-rq runs."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        problem = rq_missing(kwargs)
        if problem:
            raise Http404(problem)
        return view(request, *args, **kwargs)

    return checked
