"""`vgsum eval queries`: the report and its targets, user errors, and real queries through the live path."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vgsum.models.data.queries import Query, QuerySet
from vgsum.models.eval.queries import (
    DEFAULT_ROWS,
    QUERY_ROWS,
    QueryRecord,
    available_rows,
    format_queries,
    load_records,
    row_problem,
    run_queries,
    targets_met,
)
from vgsum.models.eval.query_metrics import NamedHighlight, QueryResult, evaluate_query


def _vgsum(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def _result(kind: str, relevant: int, covered: int, highlights: int, named: int, named_true: int,
            auc: float | None = None) -> QueryResult:
    return QueryResult("q", kind, relevant, covered, highlights, named, named_true,
                       covered / relevant if relevant else None, named_true / named if named else None,
                       named / highlights if highlights else None, auc)


def test_targets_pool_each_kind_and_check_colour_on_the_parking_lot_only():
    records = [
        QueryRecord("room.mp4", "dev", "lookup", True, _result("class", 6, 6, 6, 6, 6, 0.9)),
        QueryRecord("room.mp4", "dev", "lookup", True, _result("sentence", 6, 0, 6, 0, 0, 0.9)),
        QueryRecord("road.avi", "held-out", "lookup", True, _result("synonym", 5, 5, 1, 1, 1, 0.8)),
        QueryRecord("parking-lot-cars.mp4", "dev", "lookup", True, _result("colour", 1, 1, 3, 4, 3)),
        QueryRecord("road.avi", "held-out", "lookup", True, _result("colour", 1, 0, 1, 1, 0)),  # not the target clip
        QueryRecord("room.mp4", "dev", "lookup", True, _result("negative", 0, 0, 10, 1, 0)),
        QueryRecord("road.avi", "held-out", "lookup", False, _result("negative", 0, 0, 10, 0, 0)),
    ]
    lines = targets_met(records, "lookup")
    # recall 11/17; precision 7/7; colour on parking 3/4; negatives 1/20
    assert lines == [
        "positive recall 0.65 = 11/17 events (>= 0.9): NOT met",
        "positive precision 1.00 = 7/7 named (>= 0.9): met",
        "colour precision (parking) 0.75 = 3/4 named (>= 0.8): NOT met",
        "negative false-match 0.05 = 1/20 highlights (<= 0.05): met",
    ]
    held_out = targets_met(records, "lookup", "held-out")
    assert held_out[0] == "positive recall 1.00 = 5/5 events (>= 0.9): met"
    assert held_out[2] == "colour precision (parking): n/a (no such queries here)"
    report = format_queries(records)
    assert "dev: 2 targets" in report and "held-out: 1 targets" in report and "all: 3 targets" in report
    line = next(x for x in report.splitlines() if x.startswith("lookup") and " negative " in x and "0.050" in x)
    assert line.split()[2:5] == ["2", "-", "0.00"]  # 2 queries, no recall, precision 0/1
    assert any(x.startswith("lookup") and "non-COCO" in x for x in report.splitlines())


def test_rows_this_build_cannot_run_are_named_with_the_setting_they_need():
    assert row_problem({}) is None
    assert "'no_such_setting'" in row_problem({"no_such_setting": 1})
    if importlib.util.find_spec("vgsum.runtime.language") is None:
        assert row_problem({"query_matcher": "phrases"}) == (
            "needs vgsum.runtime.language.matcher, which this build lacks")
    assert available_rows()[0] == "lookup"
    assert available_rows() == [r for r in DEFAULT_ROWS if row_problem(QUERY_ROWS[r]) is None]


def test_a_refiner_row_runs_on_the_live_defaults_or_on_the_query_row_it_names(tmp_path: Path):
    from vgsum.models.eval.queries import parse_refiners
    from vgsum.runtime.common.errors import UserError

    at = tmp_path / "eng@2"  # a folder whose own name holds an @ still parses: the row is after the last one
    at.mkdir()
    refiners, rows = parse_refiners([f"plain={tmp_path}", f"alone={at}@graph-only", f"nb={tmp_path}@no-boost"])
    assert refiners == {"plain": tmp_path, "alone": at, "nb": tmp_path}
    assert rows == {"alone": "graph-only", "nb": "no-boost"}
    for item, problem in [(f"x={tmp_path}@telepathy", "unknown row 'telepathy'"),
                          (f"lookup={tmp_path}", "the row name 'lookup' is taken"),
                          (f"x={tmp_path / 'missing'}@no-boost", "NAME=DIR[@ROW]")]:
        with pytest.raises(UserError, match=re.escape(problem)):
            parse_refiners([item])


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--rows", "nope"], "unknown row 'nope'"),
        (["--clips", "nope.mp4"], "no query set for 'nope.mp4'"),
        (["--refiner", "ablation"], "--refiner wants NAME=DIR"),
    ],
)
def test_a_user_mistake_is_one_line_and_exit_2(args, problem):
    result = _vgsum("eval", "queries", *args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and problem in lines[0], result.stderr


def test_every_matcher_row_runs_in_this_build_and_a_setting_it_lacks_is_named():
    assert {r: row_problem(changes) for r, changes in QUERY_ROWS.items()} == dict.fromkeys(QUERY_ROWS)
    assert "query_matcher" in row_problem({"query_matcher": "telepathy"})


@pytest.fixture(scope="module")
def live_engines(request: pytest.FixtureRequest) -> Path:
    """The engine cache when it holds a full set (an export takes minutes on 2 cores), else engines built here."""
    from vgsum.runtime.common.errors import UserError
    from vgsum.runtime.common.paths import engine_dir
    from vgsum.runtime.daemon.config import EngineConfig
    from vgsum.runtime.engines.loader import Engines

    try:
        Engines.load(EngineConfig(dir=engine_dir()))
    except UserError:
        return request.getfixturevalue("engine_folder")
    return engine_dir()


@pytest.mark.slow
def test_each_query_runs_on_its_own_stream_on_the_same_frames_and_the_saved_json_reproduces_it(
    shared_data, live_engines, tmp_path
):
    clip = "parking-lot-cars.mp4"
    chosen = QuerySet(clip, (Query("a car", "class", (0, 1, 2, 3)), Query("a red car", "colour", (2,)),
                             Query("a dog", "negative")))
    records = run_queries([chosen], ["lookup"], engine_folder=live_engines, save=tmp_path, show_progress=False)
    assert [(r.row, r.result.query) for r in records] == [("lookup", "a car"), ("lookup", "a red car"),
                                                          ("lookup", "a dog")]
    saved = json.loads((tmp_path / "lookup" / f"{clip}.json").read_text())
    assert saved["split"] == "dev" and [q["query"] for q in saved["queries"]] == ["a car", "a red car", "a dog"]
    reference = [t for t, _ in saved["no_query"]["scores"]]
    assert len(reference) >= 59  # 30.2 s at 2 fps
    by_query = {r.result.query: r.result for r in records}
    for entry in saved["queries"]:
        assert [t for t, _ in entry["scores"]] == reference  # every stream saw the same frames
        ends = [h for h in entry["highlights"] if h["phase"] == "end"]
        assert ends and all(h["query"] in (None, entry["query"]) for h in ends)  # a stream names only its query
        recomputed = evaluate_query(
            entry["query"], entry["kind"], [tuple(s) for s in entry["relevant"]],
            [NamedHighlight(h["start"], h["end"], h["query"]) for h in ends],
            np.array([t for t, _ in entry["scores"]]), np.array([s for _, s in entry["scores"]]),
            np.array([s for _, s in saved["no_query"]["scores"]]),
        )
        assert recomputed == by_query[entry["query"]]
    # the detector sees the cars: "a car" names a highlight, and only on cars; nothing names a dog
    assert by_query["a car"].named >= 1 and by_query["a car"].precision == 1.0
    assert by_query["a dog"].named == 0 and by_query["a dog"].highlights >= 3
    assert saved["no_query"]["highlights"] and all(h["query"] is None for h in saved["no_query"]["highlights"])
    assert load_records(tmp_path) == records  # a saved run re-pools without running again
