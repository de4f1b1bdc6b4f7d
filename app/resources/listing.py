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

Repeated requests (the filter box fires on every keystroke, htmx refreshes the table) would
re-read and re-format hundreds of objects each time. Each chunk read *as the user* is kept,
already formatted, in a short-lived `RowCache` keyed by the reader's identity (user id and
name) and by everything that decides the chunk (kind, namespace, limit, continue token, label
selector). A user only ever gets rows the API server gave to that same user; grants are still
checked by the blueprint on every request before any chunk is asked for. Entries expire after
``ttl`` seconds (``CODEX_LIST_CACHE_TTL``; 0 turns the cache off) and the cache is
bounded by its total number of rows (least recently used entries go first).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Protocol

from app.kinds import Kind
from app.resources.format import Cell, row_cells

PAGE_SIZE = 50
CHUNK = 500  # objects per API request when a filter or a sort needs more than one page
SORT_LIMIT = 5000
CACHE_MAX_ROWS = 20_000  # bound of the cache, in rows over all entries
# Bound in entries too: an empty answer costs no rows, and every distinct selector is a new key.
CACHE_MAX_ENTRIES = 2_000


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
    haystack: str = ""  # lower-cased text the free-text filter matches against


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


class RowCache:
    """A small thread-safe LRU of formatted chunks with a time-to-live.

    Keys must include the identity the chunk was read as; `_chunk` builds them.
    """

    def __init__(self, ttl: float, max_rows: int = CACHE_MAX_ROWS,
                 clock: Callable[[], float] = time.monotonic, max_entries: int = CACHE_MAX_ENTRIES):
        self.ttl = ttl
        self._clock = clock
        self.max_rows = max_rows
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, tuple[Row, ...], str | None]] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[tuple[Row, ...], str | None] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() - entry[0] > self.ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def put(self, key: Hashable, rows: tuple[Row, ...], token: str | None) -> None:
        if self.ttl <= 0 or len(rows) > self.max_rows:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self._clock(), rows, token)
            self._rows += len(rows)
            while self._rows > self.max_rows or len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        _, rows, _ = self._entries.pop(key)
        self._rows -= len(rows)

    def __len__(self) -> int:
        return len(self._entries)


def _row(kind: Kind, obj: dict) -> Row:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    row = Row(str(meta.get("namespace", "")), str(meta.get("name", "")), row_cells(kind, obj))
    row.haystack = " ".join([row.namespace, row.name,
                             *(str(c[0]) for c in row.cells.values())]).lower()
    return row


def _matches(row: Row, needle: str) -> bool:
    return not needle or needle in row.haystack


def _chunk(reader: ObjectReader, kind: Kind, namespace: str | None, *, limit: int,
           continue_token: str | None, label_selector: str | None) -> tuple[tuple[Row, ...], str | None]:
    """Read and format one chunk, reusing a recent identical read by the same identity.

    Only readers that name their identity (``reader.identity``, e.g. the user id) and carry a
    ``reader.row_cache`` are cached; the identity is part of the key, so one user's rows are
    never served to another user.
    """
    cache: RowCache | None = getattr(reader, "row_cache", None)
    identity: Any = getattr(reader, "identity", None)
    key = None
    if cache is not None and identity is not None:
        key = (identity, kind.name, namespace, limit, continue_token, label_selector)
        hit = cache.get(key)
        if hit is not None:
            return hit
    items, next_token = reader.list(kind, namespace, limit=limit, continue_token=continue_token,
                                    label_selector=label_selector)
    rows = tuple(_row(kind, obj) for obj in items)
    if key is not None:
        cache.put(key, rows, next_token)
    return rows, next_token


def _walk_in_order(reader: ObjectReader, kind: Kind, namespaces: list[str | None],
                   query: Query, page_size: int) -> Page:
    """Fill one page in API order, resuming from the query's cursor."""
    state = decode_cursor(query.cursor)
    ns_index = state.get("n", 0) if isinstance(state.get("n"), int) else 0
    ns_index = max(ns_index, 0)
    token = state.get("c") if isinstance(state.get("c"), str) else None
    # A cursor comes back from the browser: clamp the offset into a chunk so a forged one cannot
    # ask the API server for an unpaged list (limit = page + skip).
    skip = state.get("s", 0) if isinstance(state.get("s"), int) else 0
    skip = min(max(skip, 0), CHUNK)
    needle = query.needle
    page = Page()
    while ns_index < len(namespaces):
        want = page_size - len(page.rows)
        limit = max(want + skip, 1) if not needle else CHUNK
        rows, next_token = _chunk(reader, kind, namespaces[ns_index], limit=limit,
                                  continue_token=token, label_selector=query.label_selector)
        for position, row in enumerate(rows[skip:], start=skip):
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
            chunk, token = _chunk(reader, kind, namespace, limit=CHUNK, continue_token=token,
                                  label_selector=query.label_selector)
            seen += len(chunk)
            rows.extend(r for r in chunk if _matches(r, query.needle))
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
