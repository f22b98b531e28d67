"""One reading of times for `vgsum highlights` and the page's API: every form, and one line for the rest."""

from __future__ import annotations

import pytest

from vgsum.runtime.common.times import FORMS, parse_time
from vgsum.runtime.web.api import BadRequest, highlights


def test_every_form_people_write() -> None:
    assert parse_time("now", now=5.0) == 5.0
    assert parse_time("-90m", now=10_000.0) == 10_000.0 - 5400
    assert parse_time(" -1.5h ", now=10_000.0) == 10_000.0 - 5400
    assert parse_time("-1w", now=1e6) == 1e6 - 604_800
    assert parse_time("1700000000") == 1_700_000_000.0
    assert parse_time("1700000000.25") == 1_700_000_000.25
    assert parse_time("2026-01-01T00:00:00+00:00") == 1_767_225_600.0


@pytest.mark.parametrize("text", ["tomorrow", "-2x", "", "2026-13-01", "1e9"])
def test_anything_else_says_which_forms_are_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="ISO time"):
        parse_time(text)
    assert "-2h" in FORMS


def test_the_page_api_reads_the_same_forms_as_the_command_line(tmp_path) -> None:
    from vgsum.runtime.store.schema import connect
    from vgsum.runtime.web.api import StoreAccess

    db = tmp_path / "history.db"
    connect(db).close()  # an empty store of the current schema
    access = StoreAccess(db)
    try:
        assert highlights(access, {"since": ["-2h"], "until": ["now"]})["highlights"] == []
        with pytest.raises(BadRequest, match="since 'yesterday'"):
            highlights(access, {"since": ["yesterday"]})
    finally:
        access.close()
