"""Uploads stay out of the web process's memory (settings: MIDDLEWARE, FILE_UPLOAD_HANDLERS).

- `request_size_limit`: a request whose Content-Length is past the largest model package plus the form's
  other fields (DATA_UPLOAD_MAX_MEMORY_SIZE) is refused with a 413 page from its headers alone; its body
  is then discarded in small blocks (never held), so that the browser gets the page rather than a reset
  connection, and so that the development server does not read the rest in one piece. The documented
  proxy refuses it even earlier (README: `client_max_body_size`).
- `BoundedUploadHandler`: a file is written to a temporary file as it arrives, and never past
  MODEL_PACKAGE_MAX_BYTES (or the limit its view names with `upload_limit`, e.g. DATASET_MAX_BYTES for a
  tenant's CSV): past it, the rest is counted and dropped, and the form gets an `OversizedUpload`
  whose size says by how much (files of a few MB stay in memory: FILE_UPLOAD_MAX_MEMORY_SIZE).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

from deployments import conf

DISCARD_BLOCK = 64 * 1024
API_PREFIX = "/api/"


def max_request_bytes() -> int:
    """The largest request body the web process accepts: one model package and the form around it."""
    return conf.max_upload_bytes() + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def request_size_limit(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    """Middleware: refuse an oversized request before anything reads its body (see the module)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):  # the API enforces each deployment kind's own limit
            return get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_request_bytes()
        if length <= limit:
            return get_response(request)
        while request.read(DISCARD_BLOCK):
            pass
        context = {"size": filesizeformat(length), "limit": filesizeformat(limit)}
        return render(request, "413.html", context, status=413)

    return middleware


class OversizedUpload(UploadedFile):
    """A file that went past the limit: nothing of it is kept, only its name and how big it was."""

    def __init__(self, name: str, size: int, content_type: str | None) -> None:
        super().__init__(io.BytesIO(), name, content_type, size)


def upload_limit(limit: Callable[[], int]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view whose uploads have their own limit (read when the upload starts)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view.upload_limit = limit  # type: ignore[attr-defined]
        return view

    return decorator


def _limit_for(request: HttpRequest | None) -> int:
    match = getattr(request, "resolver_match", None)
    own = getattr(getattr(match, "func", None), "upload_limit", None)
    return min(own(), conf.max_upload_bytes()) if own else conf.max_upload_bytes()


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """TemporaryFileUploadHandler that stops writing at the view's limit (see the module)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.limit, self.received = _limit_for(self.request), 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            return None  # dropped: the parser reads on to the next field in blocks
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= self.limit:
            return super().file_complete(file_size)
        self.file.close()  # a temporary file is deleted when closed
        return OversizedUpload(self.file_name or "upload", self.received, self.content_type)
