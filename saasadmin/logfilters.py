"""Logging filters that keep `make run`'s output readable for a person."""

from __future__ import annotations

import logging


class RefusalOneLine(logging.Filter):
    """An expected refusal (a 4xx: 403, 404, 400, 405…) is one line, its reason included, no traceback.

    Django logs each refused request with the exception that refused it, so a crawl or a user without a
    role printed a full traceback per request. Server errors (5xx) keep their tracebacks.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and isinstance(status, int) and status < 500:
            reason = record.exc_info[1]
            record.msg, record.args = record.getMessage(), ()
            if reason is not None and str(reason):
                record.msg = f"{record.msg} ({reason})"
            record.exc_info, record.exc_text = None, None
        return True
