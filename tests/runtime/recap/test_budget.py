"""The budget's forms and its limits against the time range."""

from __future__ import annotations

import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.recap.budget import parse_budget


@pytest.mark.parametrize(
    ("text", "range_s", "seconds"),
    [("3m", 86_400, 180.0), ("90s", 3600, 90.0), ("90", 3600, 90.0), ("1h", 86_400, 3600.0),
     ("5%", 3600, 180.0), ("0.5 %", 86_400, 432.0), (" 2.5M ", 600, 150.0)],
)
def test_budget_forms(text: str, range_s: float, seconds: float):
    assert parse_budget(text).for_range(range_s) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "3 minutes", "-3m", "5%%", "120%", "0%", "0", "0m"])
def test_bad_budgets_are_one_line(text: str):
    with pytest.raises(UserError) as err:
        parse_budget(text).for_range(3600)
    assert "\n" not in str(err.value)


def test_a_budget_past_the_range_is_refused():
    with pytest.raises(UserError, match="longer than the time range"):
        parse_budget("2h").for_range(3600)
