"""Query metrics on hand-made traces whose answers are worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vgsum.models.eval.query_metrics import (
    NamedHighlight,
    QueryResult,
    evaluate_query,
    pool_queries,
    query_auc,
    relevant_frames,
)

# 60 s at 2 fps. A red car at 10-20 s, a white car at 30-40 s; "a red car" is relevant to the first only.
TIMES = np.arange(0.0, 60.0, 0.5)
RED = [(10.0, 20.0)]
WHITE = (30.0, 40.0)


def _scores(high: list[tuple[float, float]], value: float = 0.9, rest: float = 0.1) -> np.ndarray:
    times = TIMES
    scores = np.full_like(times, rest)
    for start, end in high:
        scores[(times >= start) & (times <= end)] = value
    return scores


def test_a_query_naming_exactly_its_event():
    highlights = [NamedHighlight(10.0, 20.5, "a red car"), NamedHighlight(30.0, 40.5, None)]
    r = evaluate_query("a red car", "colour", RED, highlights, TIMES, _scores(RED))
    assert (r.relevant, r.covered, r.recall) == (1, 1, 1.0)
    assert (r.highlights, r.named, r.named_true, r.precision) == (2, 1, 1, 1.0)
    assert r.named_share == 0.5
    assert r.auc == 1.0


def test_naming_the_wrong_car_costs_precision_and_recall():
    # the highlight on the white car names "a red car"; the red car's highlight names nothing
    highlights = [NamedHighlight(10.0, 20.5, None), NamedHighlight(30.0, 40.5, "a red car")]
    r = evaluate_query("a red car", "colour", RED, highlights, TIMES, _scores([*RED, WHITE]))
    assert (r.covered, r.recall) == (0, 0.0)
    assert (r.named, r.named_true, r.precision) == (1, 0, 0.0)
    # both cars score 0.9: relevant frames (21) tie with the white car's frames (21 of 97 others): 1 - 21/97/2
    others = int(relevant_frames(TIMES, RED)[1].sum())
    assert others == 120 - 21 - 2  # 0.5 s either side of the event left out: 9.5 and 20.5
    assert r.auc == pytest.approx(1 - 21 / others / 2)


def test_a_highlight_naming_another_query_does_not_count():
    highlights = [NamedHighlight(10.0, 20.5, "a car")]
    r = evaluate_query("a red car", "colour", RED, highlights, TIMES, _scores(RED))
    assert (r.covered, r.named, r.precision, r.named_share) == (0, 0, None, 0.0)


def test_touching_uses_the_half_second_tolerance():
    just_after = [NamedHighlight(20.4, 25.0, "q")]  # starts 0.4 s after the event's end: touches
    too_late = [NamedHighlight(20.6, 25.0, "q")]  # 0.6 s after: does not
    assert evaluate_query("q", "class", RED, just_after, TIMES, _scores(RED)).recall == 1.0
    r = evaluate_query("q", "class", RED, too_late, TIMES, _scores(RED))
    assert (r.recall, r.precision) == (0.0, 0.0)


def test_one_highlight_over_two_relevant_events_covers_both_and_counts_once():
    relevant = [(10.0, 20.0), (30.0, 40.0)]
    r = evaluate_query("a car", "class", relevant, [NamedHighlight(9.0, 41.0, "a car")], TIMES, _scores(relevant))
    assert (r.covered, r.recall, r.named, r.named_true, r.precision) == (2, 1.0, 1, 1, 1.0)


def test_a_negative_query_reports_its_false_match_rate():
    highlights = [NamedHighlight(10.0, 20.0, "a dog"), NamedHighlight(30.0, 40.0, None),
                  NamedHighlight(45.0, 50.0, None), NamedHighlight(52.0, 55.0, None)]
    r = evaluate_query("a dog", "negative", [], highlights, TIMES, _scores(RED))
    assert (r.relevant, r.recall, r.auc) == (0, None, None)
    assert (r.named, r.named_true, r.precision, r.named_share) == (1, 0, 0.0, 0.25)


def test_no_highlights_leaves_precision_and_share_undefined():
    r = evaluate_query("a car", "class", RED, [], TIMES, _scores(RED))
    assert (r.recall, r.precision, r.named_share) == (0.0, None, None)


def test_auc_against_the_unboosted_run():
    # without the query both cars score alike; with it the red car is lifted: the AUC moves from a tie to 1
    unboosted = _scores([*RED, WHITE], value=0.5)
    boosted = _scores([*RED, WHITE], value=0.5)
    boosted[(TIMES >= 10.0) & (TIMES <= 20.0)] = 0.8
    r = evaluate_query("a red car", "colour", RED, [], TIMES, boosted, unboosted)
    assert r.auc == 1.0
    others = int(relevant_frames(TIMES, RED)[1].sum())
    assert r.auc_unboosted == pytest.approx(1 - 21 / others / 2)
    with pytest.raises(ValueError, match="do not match"):
        evaluate_query("a red car", "colour", RED, [], TIMES, boosted, unboosted[:-1])


def test_query_auc_leaves_out_frames_near_an_edge_and_checks_shapes():
    times = np.array([9.0, 9.6, 10.0, 15.0, 20.0, 20.4, 21.0])
    scores = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0])  # 9.6 and 20.4 are within 0.5 s: left out
    assert query_auc(RED, times, scores) == 1.0
    assert query_auc([], times, scores) is None
    with pytest.raises(ValueError, match="1-d of one length"):
        query_auc(RED, times, scores[:-1])


def test_pool_sums_counts_before_dividing_and_averages_auc():
    a = QueryResult("a car", "class", relevant=4, covered=4, highlights=4, named=4, named_true=4, recall=1.0,
                    precision=1.0, named_share=1.0, auc=0.9, auc_unboosted=0.8)
    b = QueryResult("a vehicle", "synonym", relevant=1, covered=0, highlights=2, named=1, named_true=0, recall=0.0,
                    precision=0.0, named_share=0.5, auc=0.5, auc_unboosted=0.6)
    c = QueryResult("a dog", "negative", relevant=0, covered=0, highlights=3, named=0, named_true=0, recall=None,
                    precision=None, named_share=0.0, auc=None)
    p = pool_queries([a, b, c])
    assert (p["queries"], p["relevant"], p["covered"], p["recall"]) == (3, 5, 4, 0.8)  # not the mean 0.5
    assert (p["named"], p["named_true"], p["precision"]) == (5, 4, 0.8)
    assert (p["highlights"], p["false_match"]) == (9, pytest.approx(5 / 9))
    assert (p["auc_mean"], p["auc_min"], p["auc_queries"]) == (pytest.approx(0.7), 0.5, 2)
    assert p["auc_unboosted_mean"] == pytest.approx(0.7)
    empty = pool_queries([])
    assert empty["recall"] is None and empty["precision"] is None and empty["auc_mean"] is None


def test_result_round_trips_through_json():
    r = evaluate_query("a red car", "colour", RED, [NamedHighlight(10.0, 20.0, "a red car")], TIMES, _scores(RED))
    assert QueryResult.from_json(json.loads(json.dumps(r.to_json()))) == r
