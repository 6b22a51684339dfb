"""Serving plotly.js from the installed plotly package: no CDN (operators run this in locked-down
networks), no 4.6 MB copy in the repository, and the file's version always matches the Python package's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly.min.js"
_SOURCE = Path(plotly.__file__).parent / "package_data"


class _PrefixedStorage(FileSystemStorage):
    """The package_data folder, seen by collectstatic under the `vendor/` prefix."""

    prefix = "vendor"


class PlotlyFinder(BaseFinder):
    """A staticfiles finder for exactly one file, `vendor/plotly.min.js` (collectstatic copies it too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.storage = _PrefixedStorage(location=str(_SOURCE))

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:  # str, or a list with find_all
        if path != PLOTLY_JS:
            return [] if find_all or kwargs.get("all") else ""
        found = str(_SOURCE / "plotly.min.js")
        return [found] if find_all or kwargs.get("all") else found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        yield "plotly.min.js", self.storage
