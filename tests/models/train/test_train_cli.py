"""`vgsum train`: a user's mistake in a recipe is one line naming the key."""

from __future__ import annotations

import pytest

from vgsum.runtime.common.errors import UserError


def test_train_cli_bad_config_is_one_line_error(tmp_path):
    from vgsum.models.train.cli import main

    cfg = tmp_path / "x.yaml"
    cfg.write_text("epochs: 3\nbogus_key: 1\n")
    with pytest.raises(UserError, match="bogus_key: unknown key"):
        main(["--config", str(cfg)])
    cfg.write_text("videograph: {refine_steps: -1}\n")
    with pytest.raises(UserError, match="videograph.refine_steps"):
        main(["--config", str(cfg)])
