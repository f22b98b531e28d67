"""`vgsum eval`: the streaming report's live settings default to the runtime's, and a bad one is one line."""

from __future__ import annotations

import pytest

from vgsum.models.eval.cli import LIVE_OPTIONS, main
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.summary.config import SummaryConfig


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--shot-delay-s", "-1"], "--shot-delay-s: Input should be greater than or equal to 0"),
        (["--decision-delay-s", "9000"], "--decision-delay-s: Input should be less than or equal to"),
    ],
)
def test_a_bad_live_setting_is_one_line_naming_the_option(args, says):
    with pytest.raises(UserError, match=says):
        main(["streaming", *args])


def test_every_live_option_is_a_summary_config_key(capsys):
    assert set(LIVE_OPTIONS) <= set(SummaryConfig.model_fields)
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    live = SummaryConfig()
    assert f"live default {live.shot_delay_s:g})" in text and f"live default {live.decision_delay_s:g})" in text
