"""`vgsum demo` (ingest-only for now): the bundled sample goes through a real socket and is printed."""

from __future__ import annotations

from vgsum.runtime.demo_cli import main


def test_demo_prints_published_frames_and_summary(bikes_mp4, capsys):
    assert main(["--fast"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    frames = [line for line in lines if line.startswith("frame")]
    assert len(frames) == 20  # 10 s at 2 fps
    assert "512x218" in frames[0]
    summary = lines[-1]
    assert summary.startswith("demo summary:") and "frame 20" in summary and "0 seq gaps" in summary
    assert "final state ended" in summary
