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
