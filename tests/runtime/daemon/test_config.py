"""EdgeConfig: the example config is valid, and queries obey the control socket's rules from the start."""

from __future__ import annotations

import pytest

from vgsum.runtime.common.configfile import load_config, parse_config
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.paths import REPO_ROOT
from vgsum.runtime.common.sample import demo_sample
from vgsum.runtime.daemon.config import EdgeConfig


def test_example_config_validates():
    cfg = load_config(REPO_ROOT / "configs" / "edge.yaml", EdgeConfig)
    assert len(cfg.streams) == 2
    assert cfg.streams[0].url == str(demo_sample())  # `sample:opencv-tree-window.mp4`: the clip vgsum ships
    assert cfg.streams[0].policy == "drop_oldest" and cfg.streams[0].loop
    assert cfg.streams[1].kind == "rtsp" and "CHANGE_ME" not in cfg.streams[1].safe_url
    assert cfg.streams[1].max_retries == 5


def test_configured_queries_are_cleaned_like_control_requests():
    cfg = EdgeConfig(streams=[{"stream_id": "a", "url": "a.mp4", "queries": [" person ", "dog", "person"]}])
    assert cfg.streams[0].queries == ["person", "dog"]


@pytest.mark.parametrize(
    ("queries", "fragment"),
    [(["ok", ""], "query 1 is empty"), (["x" * 201], "longer than 200"), (["a\x00b"], "control characters")],
)
def test_a_bad_configured_query_is_one_line_naming_the_stream(queries, fragment):
    with pytest.raises(UserError) as err:
        parse_config({"streams": [{"stream_id": "cam", "url": "rtsp://u:hunter2@cam/1", "queries": queries}]},
                     EdgeConfig, where="edge.yaml")
    message = str(err.value)
    assert message.startswith("edge.yaml: streams: stream 'cam': ") and fragment in message
    assert "\n" not in message and "hunter2" not in message


def test_a_stream_changes_only_its_own_summary_settings():
    cfg = parse_config(
        {
            "summary": {"motion_gain": 0.3, "events": {"end_s": 4.0}},
            "streams": [
                {"stream_id": "street", "url": "a.mp4",
                 "summary": {"motion_gain": 0.1, "events": {"start_above": 0.7}}},
                {"stream_id": "hall", "url": "b.mp4"},
            ],
        },
        EdgeConfig,
    )
    street, hall = cfg.summary_for("street"), cfg.summary_for("hall")
    assert (street.motion_gain, street.events.start_above, street.events.end_s) == (0.1, 0.7, 4.0)
    assert (hall.motion_gain, hall.events.start_above, hall.events.end_s) == (0.3, 0.6, 4.0)
    assert cfg.summary.motion_gain == 0.3  # the section itself stays the default for every other stream


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"motion_gian": 0.2}, "streams.1.summary.motion_gian: Extra inputs are not permitted"),
        ({"motion_gain": 1.5}, "streams.1.summary.motion_gain: Input should be less than or equal to 1"),
        ({"events": {"start_above": 0.3}}, "end_below must not exceed events.start_above"),
        ({"events": {"finish": 1}}, "streams.1.summary.events.finish: Extra inputs are not permitted"),
    ],
)
def test_a_bad_stream_summary_key_is_one_line_naming_it(changes, fragment):
    data = {"streams": [{"stream_id": "a", "url": "a.mp4"}, {"stream_id": "b", "url": "b.mp4", "summary": changes}]}
    with pytest.raises(UserError) as err:
        parse_config(data, EdgeConfig, where="edge.yaml")
    assert fragment in str(err.value) and "\n" not in str(err.value), err.value


def test_the_example_config_keeps_the_defaults_unless_it_says_why():
    from vgsum.runtime.summary.config import SummaryConfig

    cfg = load_config(REPO_ROOT / "configs" / "edge.yaml", EdgeConfig)
    assert cfg.summary == SummaryConfig()
