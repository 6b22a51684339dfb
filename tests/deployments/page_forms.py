"""Reading a page's form as a browser would submit it: its fields, and the values it would send."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _FormReader(HTMLParser):
    """The fields of the first POST form on a page whose class contains `css_class`, or else whose action
    is `action` (None: the form that posts back to the page itself, not, say, the sign-out form)."""

    def __init__(self, css_class: str, action: str | None) -> None:
        super().__init__()
        self.css_class, self.action = css_class, action
        self.inside = self.done = False
        self.fields: dict[str, str] = {}  # name -> what the browser would send ("" when nothing)
        self.options: dict[str, list[dict[str, Any]]] = {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and not self.done and (found.get("method") or "").lower() == "post":
            classes = (found.get("class") or "").split()
            if self.css_class:
                self.inside = self.css_class in classes
            else:
                self.inside = found.get("action") == self.action
        if not self.inside:
            return
        name = found.get("name")
        if tag == "input" and name and found.get("type") not in ("submit", "button", "checkbox"):
            self.fields[name] = found.get("value") or ""
        elif tag == "select" and name:
            self.select, self.fields[name], self.options[name] = name, "", []
        elif tag == "option" and self.select:
            self.options[self.select].append(found)
            if "selected" in found:
                self.fields[self.select] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def read_form(html: str, css_class: str = "", action: str | None = None) -> _FormReader:
    reader = _FormReader(css_class, action)
    reader.feed(html)
    return reader


def offered(reader: _FormReader, name: str) -> list[str]:
    """The option values of select `name` a person can choose (not hidden, not disabled)."""
    return [
        option.get("value") or ""
        for option in reader.options[name]
        if "hidden" not in option and "disabled" not in option and option.get("value")
    ]
