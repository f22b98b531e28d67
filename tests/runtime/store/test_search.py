"""History search by meaning on a store written by a real `vgsum run`: the parking lot's three passes (a white
car; a grey-green and a red car together; a white car) found by colour and kind, not by a stored query's text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _vgsum(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vgsum.runtime.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.fixture(scope="module")
def parking_history(tmp_path_factory: pytest.TempPathFactory, engine_folder: Path, shared_data: Path) -> dict:
    data = tmp_path_factory.mktemp("history")
    env = {**os.environ, "VGSUM_DATA": str(data)}
    run = _vgsum("run", str(shared_data / "videos" / "parking-lot-cars.mp4"), "--engines", str(engine_folder),
                 "--out", str(data / "report"), "--no-png", "--quiet", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    return env


def _ask(env: dict, engine_folder: Path, query: str) -> list[dict]:
    listed = _vgsum("highlights", "--json", "--query", query, "--engines", str(engine_folder), env=env)
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines()]


def test_a_colour_finds_the_pass_with_that_car_and_absent_things_find_nothing(parking_history, engine_folder) -> None:
    every = _ask(parking_history, engine_folder, "a car")
    assert len(every) == 3 and all(h["query"] is None for h in every)  # no query was set when they were made
    red = _ask(parking_history, engine_folder, "a red car")
    assert [round(h["start"]) for h in red] == [15], red  # only the pass with the red sedan (14.6-19.5 s)
    assert _ask(parking_history, engine_folder, "a dog") == []
    assert _ask(parking_history, engine_folder, "a bus") == []
    looks = {tuple(look) for h in every for look in h["looks"]}
    assert any(label == "car" and colour == "red" for label, colour, _, _ in looks)


def test_a_query_for_nothing_visible_says_so_and_finds_nothing(parking_history, engine_folder) -> None:
    listed = _vgsum("highlights", "--query", "a unicorn", "--engines", str(engine_folder), env=parking_history)
    assert listed.returncode == 0
    assert "note:" in listed.stderr and "nearest it can see" in listed.stderr and "INFO" not in listed.stderr
    assert listed.stdout.strip().endswith("0 highlights")
