"""Highlight clips on the real bundled sample: the packet buffer's bounds and a remux that decodes.

bikes.mp4: H.264 with B-frames, 25 fps, 10 s, keyframes at 0, 1.2, 3.04, 5.48, 7.48, 9.68 s.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from vgsum.stream.clips import clip_filename, write_clip
from vgsum.stream.packet_buffer import PacketBuffer


def _demux_into(path: Path, **bounds: float) -> tuple[PacketBuffer, list[bytes]]:
    """Feed every packet of the file to a buffer, checking the invariants after each one."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        buffer = PacketBuffer(stream, **bounds)
        payloads = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            payloads.append(bytes(packet))
            buffer.add(packet)
            if len(buffer):
                assert buffer._packets[0].key, "buffer must start at a keyframe"
                assert buffer.nbytes <= buffer.max_bytes
    # the source is closed now: clips must still be writable from the copied codec parameters
    return buffer, payloads


def test_clip_is_a_remux_that_decodes_with_the_right_span(bikes_mp4: Path, tmp_path: Path) -> None:
    buffer, payloads = _demux_into(bikes_mp4, max_seconds=60)
    assert len(buffer) == len(payloads) == 250

    span = buffer.span(3.5, 6.0)
    assert span is not None
    assert span.start == pytest.approx(3.04)  # the keyframe at or before 3.5 s
    info = write_clip(span, tmp_path / "clips" / clip_filename("cam/1", span.start))
    assert info.path.name == "cam_1_000003.04.mp4" and info.path.is_file()
    assert not list(info.path.parent.glob("*.part"))
    assert info.codec == "h264"
    assert info.duration == pytest.approx(6.0 - 3.04, abs=0.05)

    with av.open(str(info.path)) as clip:
        video = clip.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (640, 272)
        clip_payloads = [bytes(p) for p in clip.demux(video) if p.size]
    # no re-encoding: exactly the source's packets, byte for byte
    assert len(clip_payloads) == info.packets == len(span.packets)
    first = payloads.index(bytes(span.packets[0].packet))
    assert clip_payloads == payloads[first : first + len(clip_payloads)]

    with av.open(str(info.path)) as clip:
        frames = list(clip.decode(video=0))
        container_seconds = clip.duration / 1e6
    assert len(frames) == info.packets
    assert frames[0].time == pytest.approx(0.0)
    assert frames[0].key_frame
    assert frames[-1].time + 0.04 == pytest.approx(info.duration, abs=0.05)
    assert container_seconds == pytest.approx(info.duration, abs=0.05)


def test_span_outside_the_buffer_and_whole_buffer(bikes_mp4: Path, tmp_path: Path) -> None:
    buffer, _ = _demux_into(bikes_mp4, max_seconds=60)
    assert buffer.span(20.0, 25.0) is None
    whole = buffer.span(-5.0, 100.0)
    assert whole is not None and len(whole.packets) == 250 and whole.start == 0.0
    info = write_clip(whole, tmp_path / "all.mp4")
    assert info.duration == pytest.approx(10.0, abs=0.05)
    with pytest.raises(ValueError):
        buffer.span(3.0, 3.0)


def test_seconds_bound_drops_whole_gops(bikes_mp4: Path) -> None:
    buffer, _ = _demux_into(bikes_mp4, max_seconds=3.0)
    first, last = buffer.first_time, buffer.last_time
    assert first is not None and last is not None
    assert first == pytest.approx(7.48)  # 9.96 - 5.48 > 3 s, so the 5.48 GOP left too
    assert last - first <= 3.0
    assert buffer.evicted_packets + len(buffer) == 250


def test_bytes_bound_and_a_gop_larger_than_the_budget(bikes_mp4: Path, tmp_path: Path) -> None:
    whole, _ = _demux_into(bikes_mp4, max_seconds=60)
    budget = whole.nbytes // 3
    buffer, _ = _demux_into(bikes_mp4, max_bytes=budget)
    assert 0 < buffer.nbytes <= budget
    span = buffer.span(0.0, 100.0)
    assert span is not None and span.packets[0].key
    info = write_clip(span, tmp_path / "tail.mp4")
    with av.open(str(info.path)) as clip:
        assert len(list(clip.decode(video=0))) == info.packets

    tiny, _ = _demux_into(bikes_mp4, max_bytes=2000)  # smaller than any GOP
    assert tiny.overflows > 0
    assert len(tiny) == 0 or tiny._packets[0].key


def test_reset_starts_over_with_the_new_stream(bikes_mp4: Path) -> None:
    buffer, _ = _demux_into(bikes_mp4, max_seconds=60)
    with av.open(str(bikes_mp4)) as container:
        stream = container.streams.video[0]
        buffer.reset(stream)
        assert len(buffer) == 0 and buffer.span(0.0, 5.0) is None
        packets = container.demux(stream)
        non_key = [p for p in packets if p.size and not p.is_keyframe][:3]
        assert not any(buffer.add(p) for p in non_key)  # waits for a keyframe
        assert buffer.skipped_packets == 3
