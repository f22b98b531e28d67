"""`vgsum run` as a user runs it: bad options in one line, the report, and a failing pipeline that ends the run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest
from damaged_videos import cut_in_half, variable_rate_ts

from vgsum.runtime.cli.run import run_config, summarize
from vgsum.runtime.engines.loader import Engines


def _vgsum(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", *args], capture_output=True, text=True, timeout=timeout
    )


BAD_OPTIONS = [
    (("--threads", "0"), "vgsum run: --threads: Input should be greater than or equal to 1 (got 0)"),
    (("--sample-fps", "0"), "vgsum run: --sample-fps: Input should be greater than 0 (got 0.0)"),
    (("--sample-fps", "500"), "vgsum run: --sample-fps: Input should be less than or equal to 120 (got 500.0)"),
    (("--query", "person", "--query", "  "), "vgsum run: --query: stream 'bikes': query 1 is empty"),
    (("--query", "x" * 1100,), "vgsum run: --query: stream 'bikes': query 0 is longer than 200 characters"),
]


@pytest.mark.parametrize(("options", "line"), BAD_OPTIONS, ids=[" ".join(o) for o, _ in BAD_OPTIONS])
def test_a_bad_option_is_one_line_and_exit_2(tmp_path, bikes_mp4, options, line):
    # the engine folder does not exist: options are checked before anything is loaded
    result = _vgsum("run", str(bikes_mp4), "--out", str(tmp_path / "r"), "--engines", str(tmp_path / "none"), *options)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


@pytest.mark.timeout(90, func_only=True)  # a failed pipeline must end the run, not leave it waiting
def test_a_pipeline_failure_ends_the_run_with_one_line_and_exit_1(tmp_path, broken_engines: Engines, engine_folder,
                                                                  bikes_mp4, capsys):
    cfg = run_config(str(bikes_mp4), tmp_path, engines=engine_folder)
    started = time.monotonic()
    assert summarize(cfg, broken_engines, tmp_path, quiet=True) == 1
    assert time.monotonic() - started < 30
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vgsum")]
    assert lines == ["vgsum run: pipeline failed: RuntimeError: refiner exploded; see the log for the traceback"]
    assert not (tmp_path / "scores.json").exists()  # no report that looks like a summary of the whole video



def test_bad_inputs_are_one_line_each(tmp_path, engine_folder, bikes_mp4):
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("this is not a video\n")
    empty = tmp_path / "no-engines"
    empty.mkdir()
    cases = [
        (("run", str(not_video), "--engines", str(engine_folder)), "cannot read"),
        (("run", str(tmp_path / "missing.mp4"), "--engines", str(engine_folder)), "not found"),
        (("run", str(empty), "--engines", str(engine_folder)), "is a directory"),
        (("run", str(bikes_mp4), "--engines", str(empty)), "vgsum export"),
        (("run", str(bikes_mp4), "--engines", str(engine_folder), "--sample-fps", "0"), "--sample-fps"),
    ]
    for args, expected in cases:
        result = _vgsum(*args, "--out", str(tmp_path / "report"))
        lines = result.stderr.strip().splitlines()  # the README's promise: one line, nothing else on stderr
        assert result.returncode == 2, (args, result.stderr[-1500:])
        assert len(lines) == 1 and lines[0].startswith("vgsum run:") and expected in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_run_prints_highlights_and_writes_the_report(tmp_path, engine_folder, bikes_mp4):
    out = tmp_path / "report"
    result = _vgsum(
        "run",
        str(bikes_mp4),
        "--engines",
        str(engine_folder),
        "--query",
        "a person riding a bicycle",
        "--out",
        str(out),
        "--clips",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "20 frames scored" in result.stdout
    assert "note:" not in result.stdout  # the engines can see a person on a bicycle
    scores = json.loads((out / "scores.json").read_text())["scores"]
    assert len(scores) == 20 and all(s["final"] and 0 <= s["score"] <= 1 for s in scores)
    highlights = json.loads((out / "highlights.json").read_text())["highlights"]
    printed = [line for line in result.stdout.splitlines() if line.startswith("highlight ")]
    started = [line for line in printed if " started at " in line]
    assert len(started) == len(highlights) >= 1 and len(printed) == 2 * len(highlights)  # a start and an end each
    assert {h["id"][:6] for h in highlights} == {line.split()[1] for line in started}
    import av

    for highlight in highlights:  # each highlight's clip: the source's packets remuxed, covering its span
        with av.open(highlight["clip"]) as clip:
            stream = clip.streams.video[0]
            assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (640, 272)
            seconds = float(stream.duration * stream.time_base) if stream.duration else clip.duration / 1e6
        assert seconds >= highlight["end"] - highlight["start"] - 0.1
    assert (out / "timeline.png").stat().st_size > 10_000


def test_a_file_cut_in_half_gives_its_partial_report_with_one_warning(tmp_path, engine_folder, bikes_mp4):
    half = cut_in_half(bikes_mp4, tmp_path / "half.mp4")
    result = _vgsum(
        "run", str(half), "--engines", str(engine_folder), "--threads", "1", "--out", str(tmp_path / "report"),
        "--no-png", "--quiet",
    )  # fmt: skip
    # exit 0: the part that was read is a valid summary; one line says what is missing
    assert result.returncode == 0, result.stderr[-2000:]
    # where the decoder stops in the cut frame (and whether it says why) depends on which frames it decodes
    early = r"file ended early at 4\.[56] s of 10\.0 s \(truncated or damaged(: read failed: [^\n]*)?\)"
    [line] = result.stderr.splitlines()
    assert re.fullmatch(f"vgsum run: warning: {early}; the report covers only what was read", line), line
    # 10 samples when every frame is decoded; 9 when the decoder skips unreferenced frames (the default at 2 of
    # 25 fps): the cut packet then fails the decoder's flush, and the frames it held back are lost with it
    assert re.search(r"\b(9|10) frames scored", result.stdout), result.stdout
    report = json.loads((tmp_path / "report" / "scores.json").read_text())
    [warning] = report["warnings"]
    assert re.fullmatch(early, warning), warning
    assert 4.5 <= report["duration"] <= 4.6
    assert 4.0 <= report["scores"][-1]["t"] < report["duration"]


def test_the_report_of_a_variable_rate_file_lasts_to_its_last_frame(tmp_path, engine_folder, capsys):
    vfr = variable_rate_ts(tmp_path / "vfr.ts")
    cfg = run_config(str(vfr), tmp_path / "report", engines=engine_folder, threads=1)
    assert summarize(cfg, Engines.load(cfg.engines), tmp_path / "report", png=False, quiet=True) == 0
    assert "warning" not in capsys.readouterr().err
    report = json.loads((tmp_path / "report" / "scores.json").read_text())
    # the last frame is at 15.4 s (MPEG-TS starts at 1.4 s) and lasts 0.1 s; the header says 14.1 s
    assert report["duration"] == pytest.approx(15.5)
    assert report["warnings"] == []
    assert report["scores"][-1]["t"] == pytest.approx(15.4)


def test_a_query_for_something_vgsum_cannot_see_gets_one_note_and_runs(tmp_path, engine_folder, bikes_mp4):
    result = _vgsum("run", str(bikes_mp4), "--engines", str(engine_folder), "--query", "a unicorn", "--out",
                    str(tmp_path / "report"), "--no-png", "--no-store")
    assert result.returncode == 0, result.stderr[-2000:]
    notes = [line for line in result.stdout.splitlines() if "note:" in line]
    assert len(notes) == 1 and "'a unicorn'" in notes[0] and "nearest it can see" in notes[0], result.stdout
    assert "unicorn" not in result.stderr  # said once, on stdout, not again as a log line


def test_a_query_that_is_not_utf8_is_one_line(tmp_path, bikes_mp4):
    import os

    result = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "run", str(bikes_mp4), "--engines", str(tmp_path / "none"),
         "--out", str(tmp_path / "r"), b"--query", b"caf\xe9"],
        capture_output=True, env={**os.environ, "LC_ALL": "C.UTF-8"}, timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "query 0 is not valid Unicode" in lines[0], lines
