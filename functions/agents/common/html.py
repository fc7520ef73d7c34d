"""Small HTML readers for the example agents (standard library only, no browser).

Pages are read for: the <title>, the first <table> as rows keyed by its header, and elements
marked with a class (`<span class="price">$12.99</span>`) in document order.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_PRICE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


class _Reader(HTMLParser):
    def __init__(self, classes: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.classes = classes
        self.title: str | None = None
        self.rows: list[list[str]] = []
        self.marked: list[tuple[str, str]] = []
        self._stack: list[tuple[str, str | None]] = []
        self._text: list[str] = []
        self._tables = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        mark = next((c for c in sorted(classes) if c in self.classes), None)
        self._stack.append((tag, mark))
        if mark or tag == "title":
            self._text = []
        if tag == "table":
            self._tables += 1
        elif tag == "tr" and self._tables == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self._tables == 1:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, mark = self._stack.pop()
            text = " ".join("".join(self._text).split())
            if open_tag == "title" and self.title is None:
                self.title = text
            if mark:
                self.marked.append((mark, text))
            if open_tag in ("td", "th") and self._cell is not None and self.rows:
                self.rows[-1].append(" ".join("".join(self._cell).split()))
                self._cell = None
            if open_tag == tag:
                break
        if tag == "table":
            self._tables += 10  # only the first table is read

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_page(html: str, classes: set[str] | None = None) -> _Reader:
    reader = _Reader(classes or set())
    reader.feed(html)
    reader.close()
    return reader


def title(html: str) -> str | None:
    return read_page(html).title


def table(html: str) -> list[dict[str, str]]:
    """The first table's rows as dicts keyed by the header row."""
    rows = [r for r in read_page(html).rows if r]
    if not rows:
        return []
    header, *body = rows
    return [dict(zip(header, row + [""] * (len(header) - len(row)), strict=False)) for row in body]


def marked(html: str, classes: set[str]) -> list[tuple[str, str]]:
    """(class, text) of every element carrying one of `classes`, in document order."""
    return read_page(html, classes).marked


def parse_price(text: str) -> float | None:
    """'$1,299.00' -> 1299.0; None when the text holds no number."""
    match = _PRICE.search(text or "")
    return float(match.group().replace(",", "")) if match else None
