"""What the tests read off an HTML page: every start tag with its attributes, in order (the
report's page is judged by its tags, not by searching its text)."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["Tags"]


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))
