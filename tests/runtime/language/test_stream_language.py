"""One stream's language state over real frames of the bundled sample, in order, as the pipeline will feed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.engines.perception import PerceptionEngine
from vgsum.runtime.engines.text import TextEncoder
from vgsum.runtime.language.kinds import ImageNetHead
from vgsum.runtime.language.stream_language import StreamLanguage

TIMES = (1.0, 1.25, 1.5, 6.0, 6.25, 6.5)  # bikes.mp4: a person and parked cars, then cars


def test_frames_in_order_give_kept_objects_and_matches(
    perception_folder: Path, text_engine: TextEncoder, head: ImageNetHead
) -> None:
    from vgsum.export.perception.build import sample_frames

    engine = PerceptionEngine.load(perception_folder, threads=1)
    frames = sample_frames(TIMES)
    language = StreamLanguage(text_engine, ["a car", "a dog", "a unicorn"], head=head)
    assert set(language.notices()) == {"a unicorn"}
    results = [language.frame(seen, rgb) for seen, rgb in zip(engine(list(frames)), frames, strict=True)]
    assert results[0].objects and all(obj.moving is None for obj in results[0].objects)  # no earlier frame yet
    assert any(obj.moving is not None for obj in results[1].objects)
    assert sum("a car" in r.matches for r in results) >= 3
    assert not any("a dog" in r.matches or "a unicorn" in r.matches for r in results)
    for r in results:
        assert sum(r.counts.values()) == len(r.kept) <= len(r.objects)
        for query, hit in r.hits.items():
            assert all(0 <= i < len(r.kept) for i in hit.objects) and hit.strength == r.matches[query]


def test_set_queries_recompiles_and_a_bad_query_keeps_the_old_ones(text_engine: TextEncoder) -> None:
    language = StreamLanguage(text_engine, ["a car"], head=None)
    assert language.set_queries(["a person walking", "a woman"]).keys() == {"a woman"}
    with pytest.raises(UserError):
        language.set_queries(["a car", ""])
    assert language.queries == ["a person walking", "a woman"]
