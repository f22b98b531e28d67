"""Writing the recap: packets copied when the clips agree, re-encoded when not; chapters and captions in both."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from recap_history import BIKES_GOPS, resized

from vgsum.runtime.recap.clips import UnreadableClip, frame_at, index_clip
from vgsum.runtime.recap.video import Segment, write_recap


def _frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def _cues(path: Path) -> list[str]:
    """The caption track's texts, as PyAV reads the mov_text packets."""
    with av.open(str(path)) as c:
        (track,) = c.streams.subtitles
        return [bytes(p)[2:].decode() for p in c.demux(track) if p.size > 2]


def test_clip_index_reads_keyframes_length_and_format(bikes_gops: list[Path]):
    index = index_clip(bikes_gops[2])
    a, b = BIKES_GOPS[2]
    assert index.keyframes[0] == 0.0
    assert index.duration == pytest.approx(b - a, abs=0.05)
    assert (index.format.codec, index.format.width, index.format.height) == ("h264", 640, 272)
    assert frame_at(bikes_gops[2], 1.0).shape == (272, 640, 3)


def test_missing_and_broken_clips_are_unreadable(tmp_path: Path):
    with pytest.raises(UnreadableClip, match="missing"):
        index_clip(tmp_path / "nope.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    with pytest.raises(UnreadableClip):
        index_clip(broken)


def test_parts_of_one_format_are_copied_with_chapters_and_captions(bikes_gops: list[Path], tmp_path: Path):
    clips = [bikes_gops[0], bikes_gops[2], bikes_gops[4]]
    segments = [Segment(c, 0.0, index_clip(c).duration, f"part {i} · cam1 · person") for i, c in enumerate(clips)]
    out = tmp_path / "recap.mp4"
    written = write_recap(segments, [index_clip(c).format for c in clips], out)
    assert written.mode == "copy" and "stream copy" in written.reason
    assert _frames(out) == sum(_frames(c) for c in clips)  # every packet of every part, nothing re-encoded
    expected = sum(index_clip(c).duration for c in clips)
    assert written.duration == pytest.approx(expected, abs=0.05)
    with av.open(str(out)) as c:
        chapters = c.chapters()
        assert c.streams.video[0].codec_context.extradata == index_clip(clips[0]).format.extradata
    assert [ch["metadata"]["title"] for ch in chapters] == [s.caption for s in segments]
    assert [float(ch["start"] * ch["time_base"]) for ch in chapters] == pytest.approx([a for a, _ in written.spans])
    assert _cues(out) == [s.caption for s in segments]
    vtt = out.with_suffix(".vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and all(s.caption in vtt for s in segments)
    assert not list(tmp_path.glob("*.part"))


def test_a_part_is_cut_inside_its_clip_on_a_keyframe(bikes_mp4: Path, tmp_path: Path):
    whole = index_clip(bikes_mp4)
    k = float(whole.keyframes[2])  # 3.04 s
    out = tmp_path / "cut.mp4"
    written = write_recap([Segment(bikes_mp4, k, k + 2.0, "cut")], [whole.format], out)
    assert written.duration == pytest.approx(2.0, abs=0.05)
    # 2 s at 25 fps; the sample has B-frames, and a part ends at the first packet (decode order) past its end
    assert 48 <= _frames(out) <= 50


def test_clips_of_different_sizes_are_re_encoded_onto_the_larger(bikes_gops: list[Path], tmp_path: Path):
    small = resized(bikes_gops[1], 320, 136, tmp_path / "small.mp4")
    clips = [bikes_gops[0], small]
    segments = [Segment(c, 0.0, index_clip(c).duration, f"part {i}") for i, c in enumerate(clips)]
    out = tmp_path / "mixed.mp4"
    written = write_recap(segments, [index_clip(c).format for c in clips], out)
    assert written.mode == "reencode" and "640x272" in written.reason and "320x136" in written.reason
    with av.open(str(out)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (640, 272)
        assert len(c.chapters()) == 2
    assert _frames(out) == sum(_frames(c) for c in clips)
    assert written.duration == pytest.approx(sum(index_clip(c).duration for c in clips), abs=0.1)
    assert _cues(out) == ["part 0", "part 1"]
