"""Hole 9: the per-user listing cache and the page cursor are bounded.

Every distinct label selector used to add a cache entry (an empty answer costs no rows, so the
row bound never evicted it), and a forged cursor could make one request ask the API server for an
unpaged list.
"""

from app.kinds import get_kind
from app.resources.listing import CHUNK, PAGE_SIZE, Query, RowCache, encode_cursor, list_page


class RecordingReader:
    """Answers every list with nothing, remembering the limits it was asked for."""

    def __init__(self, rows=0):
        self.limits, self.rows = [], rows

    def list(self, kind, namespace, *, limit=None, continue_token=None, label_selector=None,
             field_selector=None):
        self.limits.append(limit)
        items = [{"metadata": {"name": f"p{i}", "namespace": namespace or "a"}}
                 for i in range(min(self.rows, limit or self.rows))]
        return items, None


def test_cache_entries_are_bounded_even_when_answers_are_empty():
    cache = RowCache(ttl=60, max_entries=100)
    for selector in range(10_000):
        cache.put(("user", "pods", "a", 50, None, f"app={selector}"), (), None)
    assert len(cache) == 100


def test_default_cache_has_an_entry_bound():
    assert RowCache(ttl=5).max_entries <= 10_000


def test_a_forged_cursor_cannot_ask_for_an_unpaged_list():
    reader = RecordingReader()
    forged = encode_cursor({"n": 0, "c": None, "s": 10**9})
    list_page(reader, get_kind("pods"), ["a"], Query(cursor=forged))
    assert reader.limits and max(reader.limits) <= PAGE_SIZE + CHUNK


def test_a_negative_cursor_is_a_first_page():
    reader = RecordingReader(rows=3)
    page = list_page(reader, get_kind("pods"), ["a"], Query(cursor=encode_cursor({"n": -5, "s": -9})))
    assert [row.name for row in page.rows] == ["p0", "p1", "p2"]
