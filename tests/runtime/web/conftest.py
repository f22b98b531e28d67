"""A real store file for the page's tests, filled as the daemon fills it, and a real run to fill it from.

`real_run` is the real CLI on the bundled sample: it writes its own store through
the daemon's writer (highlights with clips and thumbnails, final scores), which
`fill_from_run` copies into a test's store. `StoreFiller` writes single rows with
plain SQL through `schema.connect`, for the cases a test stages by hand (a
highlight that appears while the page is open, gaps in a timeline). `browser` is
the real Chromium the page's browser tests drive.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_history import RealRun, StoreFiller

from vgsum.runtime.store.reader import StoreReader


@pytest.fixture(scope="session")
def real_run(tmp_path_factory: pytest.TempPathFactory, engine_folder: Path, bikes_mp4: Path) -> RealRun:
    """The real CLI on bikes.mp4 with clips: the highlights and H.264 clips the page shows."""
    root = tmp_path_factory.mktemp("web-run")
    out = root / "report"
    code = "import sys; from vgsum.runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "run", str(bikes_mp4), "--engines", str(engine_folder), "--clips",
         "--out", str(out), "--no-png", "--quiet"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "VGSUM_DATA": str(root / "data")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    highlights = json.loads((out / "highlights.json").read_text())["highlights"]
    assert highlights and all(Path(h["clip"]).is_file() for h in highlights)
    store = root / "data" / "history.db"
    with StoreReader(store) as reader:
        (stream,) = reader.streams()
        stored = reader.highlights(stream_id=stream.stream_id)
    assert sorted(h.id for h in stored) == sorted(h["id"] for h in highlights)
    assert all(h.thumbnail and Path(h.thumbnail).is_file() for h in stored)
    return RealRun(out, store, stream.stream_id, highlights)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private VGSUM_DATA: nothing here writes the user's real data folder."""
    folder = tmp_path / "vgsum-data"
    folder.mkdir()
    monkeypatch.setenv("VGSUM_DATA", str(folder))
    return folder


@pytest.fixture
def store(data_dir: Path) -> Iterator[StoreFiller]:
    filler = StoreFiller(data_dir / "history.db")
    try:
        yield filler
    finally:
        filler.close()


CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromedriver")


def _absent() -> str | None:
    """Why the browser tests cannot run here, or None."""
    missing = [p for p in CHROMIUM if not os.path.exists(p)]
    if missing:
        return f"{', '.join(missing)} absent (apt: chromium chromium-driver)"
    if shutil.which("chromedriver") is None and not os.path.exists(CHROMIUM[1]):
        return "chromedriver absent"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the dev extra)"
    return None


@pytest.fixture
def browser() -> Iterator:
    """A headless Chromium (Debian's, via Selenium) that may autoplay; skips where it is absent, except under CI."""
    reason = _absent()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMIUM[1]), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
