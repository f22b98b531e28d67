"""The footage check's measures on hand-made answers."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.models.eval.footage import auc, presence, summary


def test_presence_marks_times_inside_any_interval():
    times = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert presence(times, [[0.5, 1.5], [3.0, 9.0]]).tolist() == [False, True, False, True, True]


def test_auc_is_one_half_and_zero_where_it_should_be():
    positive = np.array([True, True, False, False])
    assert auc(np.array([0.9, 0.8, 0.1, 0.2]), positive) == 1.0
    assert auc(np.array([0.1, 0.2, 0.9, 0.8]), positive) == 0.0
    assert auc(np.full(4, 0.5), positive) == 0.5  # ties count half
    assert np.isnan(auc(np.ones(4), np.ones(4, bool)))
    assert summary(np.array([0.9, 0.7, 0.1, 0.3]), positive) == pytest.approx(
        {"mean_present": 0.8, "mean_absent": 0.2, "auc": 1.0})
