"""The comparison table: rows scored by the protocol on real folds, cells as mean ± std over folds."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.benchmark


def test_reference_rows_on_two_folds(shared_data, tmp_path):
    from vgsum.models.data.tvsum import load_splits, load_videos
    from vgsum.models.eval.table import format_table, run_table

    root = shared_data / "benchmarks" / "tvsum"
    splits = load_splits(root / "splits" / "tvsum_splits_nonoverlap.json")
    videos = load_videos(root / "tvsum.h5")
    results = run_table(videos, splits, ["random", "gtscore"], [0, 1], [0, 1], save_scores=tmp_path, progress=False)
    random, gtscore = results
    assert len(random.runs) == 4 and len(gtscore.runs) == 2  # gtscore has no seeds
    assert abs(random.fold_means("tau")).max() < 0.05 and gtscore.fold_means("tau").min() > 0.3
    assert gtscore.fold_means("f_score").min() > random.fold_means("f_score").max()
    assert sorted(p.name for p in (tmp_path / "random").iterdir()) == [
        "fold0.json", "fold0_seed0.json", "fold0_seed1.json", "fold1.json", "fold1_seed0.json", "fold1_seed1.json"]
    table = format_table(results, "tvsum_splits_nonoverlap.json")
    assert f"| gtscore | {gtscore.cell('f_score')} |" in table and "± " in gtscore.cell("tau")
