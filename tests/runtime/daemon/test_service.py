"""One life cycle for both services: the config's mode picks the service, the runner drives either the same way."""

from __future__ import annotations

import pytest

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.ingest_service import IngestService
from vgsum.runtime.daemon.service import build_service, run_until_done
from vgsum.stream.state import StreamState


def _config(tmp_path, bikes_mp4, mode: str) -> EdgeConfig:
    return EdgeConfig(
        mode=mode,
        streams=[{"stream_id": "file", "url": str(bikes_mp4)}, {"stream_id": "gone", "url": str(tmp_path / "x.mp4")}],
        publish={"endpoints": ["pub+bind:tcp://127.0.0.1:*"]},
        engines={"dir": tmp_path / "no-engines"},
        metrics={"port": 0},
        web={"port": 0},
        control={"endpoint": "tcp://127.0.0.1:0"},
    )


def test_ingest_mode_runs_without_engines_until_every_stream_is_final(tmp_path, bikes_mp4):
    service = build_service(_config(tmp_path, bikes_mp4, "ingest"))
    assert isinstance(service, IngestService)
    run_until_done(service)
    assert service.failure is None
    assert service.stream_states() == {"file": StreamState.ENDED, "gone": StreamState.FAILED}
    assert service.workers["file"].stats().frames_sampled == 20  # the whole file went out


def test_summarize_mode_needs_the_engines(tmp_path, bikes_mp4):
    with pytest.raises(UserError, match=f"vgsum export all --out {tmp_path / 'no-engines'}"):
        build_service(_config(tmp_path, bikes_mp4, "summarize"))
