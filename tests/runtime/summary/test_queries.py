"""Each stream's queries: one set of rules, and a store that many threads change while the pipeline reads it."""

from __future__ import annotations

import threading

import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.summary.queries import MAX_QUERIES, MAX_QUERY_CHARS, StreamQueries, clean_queries


def test_clean_queries_strips_and_deduplicates_in_order() -> None:
    assert clean_queries(["  red car ", "dog", "dog", "vélo 🚲"]) == ["red car", "dog", "vélo 🚲"]
    assert clean_queries([]) == []


@pytest.mark.parametrize(
    ("queries", "fragment"),
    [
        (["ok", "   "], "query 1 is empty"),
        (["x" * (MAX_QUERY_CHARS + 1)], "longer than"),
        (["\ud800"], "not valid Unicode"),
        (["a\x7fb"], "control characters"),
        (["q"] * (MAX_QUERIES + 1), f"at most {MAX_QUERIES}"),
    ],
)
def test_clean_queries_names_the_bad_one(queries: list[str], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        clean_queries(queries)


def test_versions_grow_on_every_change_and_a_bad_change_changes_nothing() -> None:
    store = StreamQueries()
    store.add("cam1", ["person"])
    store.add("cam2")
    assert store.stream_ids() == ["cam1", "cam2"]
    assert store.versioned("cam1") == (0, ("person",))
    store.set("cam1", ["dog", " dog"])
    assert store.versioned("cam1") == (1, ("dog",))
    with pytest.raises(ValueError):
        store.set("cam1", [""])
    assert store.versioned("cam1") == (1, ("dog",))
    with pytest.raises(UserError, match="no stream 'cam9'"):
        store.set("cam9", ["x"])
    with pytest.raises(UserError, match="no stream 'cam9'"):
        store.get("cam9")


def test_concurrent_writers_lose_no_change() -> None:
    store = StreamQueries()
    store.add("cam")

    def writer(i: int) -> None:
        for j in range(100):
            store.set("cam", [f"q{i}-{j}"])

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    version, queries = store.versioned("cam")
    assert version == 800 and len(queries) == 1
