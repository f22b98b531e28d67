"""Nested validation: recipes are chosen on videos held out of the training keys, never the test keys."""

from __future__ import annotations

import pytest

from vgsum.models.eval.validation import apply_overrides, inner_split
from vgsum.runtime.common.errors import UserError


def test_inner_split_stays_inside_the_training_keys_and_is_fixed():
    split = {"train_keys": [f"video_{i}" for i in range(40)], "test_keys": [f"video_{i}" for i in range(40, 50)]}
    train, val = inner_split(split, fold=2)
    assert len(train) == 32 and len(val) == 8 and not set(train) & set(val)
    assert set(train) | set(val) == set(split["train_keys"])
    assert inner_split(split, fold=2) == (train, val)  # the same held-out videos every time
    assert inner_split(split, fold=3)[1] != val  # and a different draw per fold


def test_overrides_set_nested_keys_as_yaml_values_without_touching_the_recipe():
    recipe = {"epochs": 20, "videograph": {"max_distance": 64, "dropout": 0.3}}
    out = apply_overrides(recipe, ["videograph.max_distance=16", "epochs=5", "lr=0.001", "query=title"])
    assert out["videograph"] == {"max_distance": 16, "dropout": 0.3} and out["epochs"] == 5
    assert out["lr"] == 0.001 and out["query"] == "title"
    assert recipe["videograph"]["max_distance"] == 64  # the loaded recipe is not modified
    with pytest.raises(UserError, match="key=value"):
        apply_overrides(recipe, ["videograph.max_distance"])
    with pytest.raises(UserError, match="not a section"):
        apply_overrides(recipe, ["epochs.x=1"])


@pytest.mark.benchmark
def test_validate_scores_a_recipe_on_held_out_training_videos(shared_data, capsys):
    from vgsum.models.eval.cli import main

    assert main(["validate", "--recipe", "videograph_k0", "--set", "epochs=2", "--set", "videograph.d_model=32",
                 "--folds", "0", "--seeds", "1", "--no-progress"]) == 0
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| videograph_k0")][0]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "epochs=2, videograph.d_model=32" and -1 <= float(cells[2]) <= 1
    with pytest.raises(UserError, match="unknown key"):
        main(["validate", "--recipe", "videograph_k0", "--set", "videograph.max_distanse=16", "--folds", "0"])
    with pytest.raises(UserError, match="no such recipe"):
        main(["validate", "--recipe", "nope", "--folds", "0"])
