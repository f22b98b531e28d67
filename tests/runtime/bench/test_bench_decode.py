"""`vgsum bench decode` on the bundled clip: skipping non-reference frames decodes fewer frames, keyframes only fewer
still (exactly the keyframes), and a bad setting is one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av

from vgsum.runtime.bench.decode_modes import decode


def _keyframe_times(path: Path, seconds: float) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            float(packet.pts * stream.time_base)
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pts is not None and float(packet.pts * stream.time_base) <= seconds
        ]


def test_each_mode_decodes_what_it_says(bikes_mp4: Path) -> None:
    every, nonref, keys = (decode(bikes_mp4, mode, 10.0) for mode in ("DEFAULT", "NONREF", "NONKEY"))
    assert every.frames == 250  # 10 s at 25 fps
    assert keys.frames < nonref.frames < every.frames  # bikes.mp4 has B-frames, which no frame references
    assert keys.frames == len(_keyframe_times(bikes_mp4, 10.0))
    assert keys.max_key_gap_s == every.max_key_gap_s > 1.0  # what keyframe-only decoding would add to an alert


def test_the_cli_prints_its_table_and_refuses_bad_settings(bikes_mp4: Path) -> None:
    cli = [sys.executable, "-m", "vgsum.runtime.cli", "bench", "decode", "--video", str(bikes_mp4)]
    done = subprocess.run([*cli, "--seconds", "3", "--repeat", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| bikes.mp4 |")]
    assert [row.split("|")[2].strip() for row in rows] == ["DEFAULT", "NONREF", "NONKEY"]
    bad = subprocess.run([*cli, "--seconds", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
