"""Server-side paging of resource tables.

The default order (namespace, then name) is the order the API server returns objects in, so
the first page of 10,000 pods costs one small ``limit=`` request, never the whole list. The
namespaces granted to the user are walked in alphabetical order, each listed *as the user*
with ``limit``/``continue``; the page cursor remembers where the walk stopped (namespace
index, the continue token that fetched the current chunk, items already consumed from it).

A free-text filter matches the row's cells; it is applied while walking, in chunks, until a
page is full. A filter of the form ``-l <selector>`` is handed to the API server as a label
selector. Sorting by any other column needs every matching object: those lists are read in
chunks up to ``SORT_LIMIT`` objects and the page says so when the limit was reached.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Protocol

from app.kinds import Kind
from app.resources.format import Cell, row_cells

PAGE_SIZE = 50
CHUNK = 500  # objects per API request when a filter or a sort needs more than one page
SORT_LIMIT = 5000


class ObjectReader(Protocol):
    """Lists one kind in one namespace (None: all namespaces), as some identity."""

    def list(self, kind: Kind, namespace: str | None, *, limit: int | None = None,
             continue_token: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[dict], str | None]: ...


@dataclass
class Row:
    namespace: str
    name: str
    cells: dict[str, Cell]


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    next_cursor: str | None = None
    truncated: bool = False  # a sorted view stopped at SORT_LIMIT objects
    offset: int = 0  # index of the first row in a sorted view


@dataclass(frozen=True)
class Query:
    """What the user asked for: namespace ("" = all granted), filter text, sort column."""

    namespace: str = ""
    text: str = ""
    sort: str = ""
    desc: bool = False
    cursor: str = ""

    @property
    def label_selector(self) -> str | None:
        text = self.text.strip()
        if text.startswith("-l ") and text[3:].strip():
            return text[3:].strip()
        return None

    @property
    def needle(self) -> str:
        return "" if self.label_selector else self.text.strip().lower()


def encode_cursor(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict:
    """Decode a page cursor; a damaged one means "first page"."""
    if not cursor:
        return {}
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        return {}
    return state if isinstance(state, dict) else {}


def _row(kind: Kind, obj: dict) -> Row:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return Row(str(meta.get("namespace", "")), str(meta.get("name", "")), row_cells(kind, obj))


def _matches(row: Row, needle: str) -> bool:
    if not needle:
        return True
    haystack = " ".join([row.namespace, row.name, *(str(c[0]) for c in row.cells.values())])
    return needle in haystack.lower()


def _walk_in_order(reader: ObjectReader, kind: Kind, namespaces: list[str | None],
                   query: Query, page_size: int) -> Page:
    """Fill one page in API order, resuming from the query's cursor."""
    state = decode_cursor(query.cursor)
    ns_index = state.get("n", 0) if isinstance(state.get("n"), int) else 0
    token = state.get("c") if isinstance(state.get("c"), str) else None
    skip = state.get("s", 0) if isinstance(state.get("s"), int) else 0
    needle = query.needle
    page = Page()
    while ns_index < len(namespaces):
        want = page_size - len(page.rows)
        limit = max(want + skip, 1) if not needle else CHUNK
        items, next_token = reader.list(kind, namespaces[ns_index], limit=limit,
                                        continue_token=token,
                                        label_selector=query.label_selector)
        for position, obj in enumerate(items[skip:], start=skip):
            row = _row(kind, obj)
            if not _matches(row, needle):
                continue
            if len(page.rows) == page_size:
                page.next_cursor = encode_cursor({"n": ns_index, "c": token, "s": position})
                return page
            page.rows.append(row)
        skip = 0
        if next_token:
            token = next_token
        else:
            ns_index, token = ns_index + 1, None
        if len(page.rows) == page_size:
            if ns_index < len(namespaces):
                page.next_cursor = encode_cursor({"n": ns_index, "c": token, "s": 0})
            return page
    return page


def _sorted_page(reader: ObjectReader, kind: Kind, namespaces: list[str | None],
                 query: Query, page_size: int) -> Page:
    """Read every matching object (up to SORT_LIMIT), sort, and cut out one page."""
    rows: list[Row] = []
    seen = 0
    truncated = False
    for namespace in namespaces:
        token = None
        while True:
            items, token = reader.list(kind, namespace, limit=CHUNK, continue_token=token,
                                       label_selector=query.label_selector)
            seen += len(items)
            rows.extend(r for r in (_row(kind, o) for o in items) if _matches(r, query.needle))
            if not token or seen >= SORT_LIMIT:
                truncated = truncated or bool(token)
                break
        if seen >= SORT_LIMIT:
            truncated = truncated or namespace is not namespaces[-1]
            break
    key = query.sort
    rows.sort(key=lambda r: (r.cells[key][1], r.namespace, r.name), reverse=query.desc)
    offset = decode_cursor(query.cursor).get("o", 0)
    offset = offset if isinstance(offset, int) and 0 <= offset < max(len(rows), 1) else 0
    page = Page(rows=rows[offset:offset + page_size], truncated=truncated, offset=offset)
    if offset + page_size < len(rows):
        page.next_cursor = encode_cursor({"o": offset + page_size})
    return page


def list_page(reader: ObjectReader, kind: Kind, namespaces: list[str | None], query: Query,
              page_size: int = PAGE_SIZE) -> Page:
    """Return one page of rows for the kind across the given namespaces."""
    if query.sort and query.sort in {c.key for c in kind.columns} and query.sort != "name":
        return _sorted_page(reader, kind, namespaces, query, page_size)
    if query.sort == "name" and query.desc:
        return _sorted_page(reader, kind, namespaces, query, page_size)
    return _walk_in_order(reader, kind, namespaces, query, page_size)
