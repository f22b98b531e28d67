"""`vgsum bench soak` in a CI-sized run: a real daemon, a camera cut and restarted, the report's figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow]


@pytest.mark.rtsp
def test_soak_smoke_run_reports_memory_threads_files_and_complete_messages(
    tmp_path, engine_folder, gst_rtsp_available
):
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "bench", "soak", "--minutes", "0.3", "--streams", "2",
         "--interval", "2", "--restart-every", "7", "--down-s", "1.5", "--engines", str(engine_folder),
         "--json", str(out), "--log", str(tmp_path / "daemon.log")],
        capture_output=True, text=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["streams"] == ["file0", "cam"]
    samples = result["samples"]
    assert len(samples) >= 8
    assert all(s["rss_mb"] > 50 and s["threads"] > 3 and s["fds"] > 3 for s in samples)
    assert samples[-1]["messages"] > samples[0]["messages"]  # the subscriber kept receiving
    summary = result["summary"]
    assert summary["running"] is False
    assert summary["rss_warm_mb"] > 0 and summary["rss_end_mb"] > 0 and summary["rss_growth_pct"] is not None
    assert summary["exit_code"] == 0 and not summary["aborted"] and summary["exit_s"] < 2.0
    assert summary["seq_gaps"] == 0 and summary["missing_finals"] == 0 and summary["open_events"] == 0
    assert summary["finals"] > 0
    assert summary["camera_cuts"] >= 2 and summary["reconnects"]["cam"] >= 1
    held = result["streams_held"]["file0"]  # the looped file: every sampled frame scored in time at 2 fps
    assert held["held"] and held["dropped"] == 0 and held["sampled"] >= 0.9 * 2 * 18
    assert summary["held"] >= 1 and summary["gated_share"] == 0.0  # no gate asked for
    assert "[soak" in proc.stdout  # progress lines


def test_staggered_copies_start_at_their_own_point_and_keep_the_whole_video(tmp_path, bikes_mp4):
    import numpy as np

    from vgsum.runtime.bench.soak import staggered
    from vgsum.runtime.recap.clips import frame_at, index_clip

    copies = staggered(bikes_mp4, 3, tmp_path)
    assert copies[0] == bikes_mp4 and all(p.parent == tmp_path for p in copies[1:])
    whole = index_clip(bikes_mp4).duration
    assert all(abs(index_clip(p).duration - whole) < 0.1 for p in copies)
    firsts = [frame_at(p, 0.0).astype(np.int16) for p in copies]
    assert all(np.abs(a - b).mean() > 5 for i, a in enumerate(firsts) for b in firsts[i + 1:])  # three openings
