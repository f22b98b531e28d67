"""The streaming evaluation runs the live rules with the live runtime's own defaults."""

from __future__ import annotations

import numpy as np
import pytest

from vgsum.models.eval.streaming import LIVE, stride_for
from vgsum.runtime.summary.config import SummaryConfig


def test_live_settings_are_the_runtime_defaults():
    assert SummaryConfig() == LIVE
    assert stride_for(LIVE.window) == LIVE.stride  # the live window runs at the live stride
    assert stride_for(16) == 4 and stride_for(2) == 1  # short windows: at least 4 windows per step
    assert stride_for(64, SummaryConfig(stride=3)) == 3


@pytest.mark.benchmark
def test_live_selection_looks_ahead_to_near_the_whole_video_knapsack(shared_data):
    """With TVSum's own scores, the live look-ahead recovers most of what deciding at once loses, and the
    live KTS cut most of what the threshold cut loses against the pack's shots (0.591 with them)."""
    from vgsum.models.data.tvsum import load_videos, normalise_features
    from vgsum.models.eval.protocol import f_score
    from vgsum.models.eval.streaming import (
        calibrate_threshold,
        online_shots_knapsack,
        online_summary,
        step_kts_shots,
        step_online_shots,
    )
    from vgsum.models.train.loop import TrainConfig, prepare

    videos = load_videos(shared_data / "benchmarks" / "tvsum" / "tvsum.h5")
    cfg = TrainConfig()
    features = {k: prepare(v, cfg)[0] for k, v in videos.items()}
    threshold = calibrate_threshold([features[k] for k in list(videos)[:10]])
    f: dict[str, list[float]] = {}
    shares = []
    for key, v in videos.items():
        gt = v.gtscore.astype(np.float64)
        cuts = {"threshold": step_online_shots(features[key], threshold),
                "kts": step_kts_shots(normalise_features(v.features, "none"))}
        for cut, shots in cuts.items():
            for value in ("mean", "total"):
                live = online_summary(shots, gt, v, LIVE.model_copy(update={"shot_value": value}))
                shares.append(live.mean())
                f.setdefault(f"{cut} {value} look-ahead", []).append(f_score(live, v.user_summary))
                at_once = online_summary(shots, gt, v, LIVE.model_copy(update={"shot_value": value,
                                                                                "decision_delay_s": 0.0}))
                f.setdefault(f"{cut} {value} at once", []).append(f_score(at_once, v.user_summary))
            f.setdefault(f"{cut} whole video", []).append(f_score(online_shots_knapsack(shots, gt, v), v.user_summary))
    mean = {name: round(float(np.mean(values)), 3) for name, values in f.items()}
    print(mean)
    for cut in cuts:
        assert mean[f"{cut} mean look-ahead"] > mean[f"{cut} mean at once"] + 0.08, mean
        assert mean[f"{cut} mean look-ahead"] > mean[f"{cut} whole video"] - 0.04, mean
        assert mean[f"{cut} total look-ahead"] > mean[f"{cut} total at once"] + 0.03, mean
    assert mean["kts whole video"] > mean["threshold whole video"] + 0.08, mean
    assert mean["kts mean look-ahead"] > mean["threshold mean look-ahead"] + 0.08, mean
    assert 0.12 < np.mean(shares) <= LIVE.budget + 0.005
