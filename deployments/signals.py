"""What deployments tells the apps built on it, so that it imports none of them.

`transform_run_finished` is sent once a transform run has ended (Completed, Failed, Stopped, or Skipped
with no files: its input area was empty) and its files' transform outcome is recorded, after the
transaction that recorded it commits. It may be sent
more than once for one run (RQ delivers at least once, and a retry ends a run again): receivers must be
idempotent. Keyword argument: `run` (a `TransformRun`).
"""

from __future__ import annotations

from django.dispatch import Signal

transform_run_finished = Signal()
