"""`vgsum bench web`: how fast the history page answers with a large store.

Fills a store file in a temporary folder with N highlights (default 10,000) over
several cameras and days, and a day of final scores per camera, then serves it
with the real page server and measures: the API's first page of highlights, one
day of one stream (highlights and scores), and the page in headless chromium
(Selenium with the system's chromium and chromedriver): the time from navigation
to the first rendered list, as the page marks it (`performance.mark`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from vgsum.runtime.common.errors import UserError

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DAY = 86400.0
LABELS = ("person", "car", "bicycle", "dog", "truck")


def fill(path: Path, highlights: int, streams: int, days: float, score_hz: float, thumbnail: Path | None) -> float:
    """Write the synthetic history; returns the wall time the newest day starts at."""
    import random

    from vgsum.runtime.store.schema import connect

    rng = random.Random(0)
    end = time.time() - 3600
    start = end - days * DAY
    conn = connect(path)
    with conn:
        conn.execute("BEGIN")
        for s in range(streams):
            conn.execute("INSERT INTO streams VALUES (?, ?, ?, NULL, ?)", (f"cam{s}", f"rtsp://10.0.0.{s}/live",
                                                                         "streaming", end))
        rows = []
        for i in range(highlights):
            wall = start + (end - start) * i / highlights
            objects = {rng.choice(LABELS): rng.randint(1, 4) for _ in range(rng.randint(1, 3))}
            query = "a red car" if i % 7 == 0 else None
            rows.append((f"h{i:06d}", f"cam{i % streams}", "end", 0.0, 8.0, wall, wall + 8.0, rng.random(),
                         json.dumps(objects), query, None, None if thumbnail is None else str(thumbnail),
                         wall + 8.0, wall + 8.0))
        conn.executemany("INSERT INTO highlights VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        n = int(DAY * score_hz)
        for s in range(streams):
            conn.executemany(
                "INSERT INTO scores VALUES (?, ?, ?, ?)",
                ((f"cam{s}", end - DAY + k / score_hz, k / score_hz, rng.random()) for k in range(n)),
            )
    conn.close()
    return end - DAY


def _thumbnail(folder: Path) -> Path | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    path = folder / "thumb.jpg"
    Image.new("RGB", (320, 136), (90, 120, 150)).save(path, "JPEG")
    return path


def _median_ms(url: str, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as reply:
            size = len(reply.read())
        times.append(1e3 * (time.perf_counter() - started))
    return statistics.median(times), size


def _page_load_ms(url: str, loads: int) -> list[float]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise UserError("bench web needs selenium (the dev extra) for the page load; or pass --no-browser") from None
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        raise UserError(f"bench web needs {CHROMIUM} and {CHROMEDRIVER} (apt: chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    mark = "const m = performance.getEntriesByName('list-rendered'); return m.length ? m[0].startTime : null"
    try:
        results = []
        for _ in range(loads + 1):  # the first load warms the browser's caches of the page's files
            driver.get(url)
            deadline = time.monotonic() + 30
            rendered = None
            while rendered is None and time.monotonic() < deadline:
                rendered = driver.execute_script(mark)
                time.sleep(0.01)
            if rendered is None:
                raise UserError("bench web: the page never rendered its list")
            rows = driver.execute_script("return document.querySelectorAll('#highlights li').length")
            assert rows > 0
            results.append(float(rendered))
        return results[1:]
    finally:
        driver.quit()


def main(argv: list[str] | None = None) -> int:
    from vgsum.runtime.web.config import WebConfig
    from vgsum.runtime.web.server import WebServer

    parser = argparse.ArgumentParser(prog="vgsum bench web", description=__doc__.splitlines()[0])
    parser.add_argument("--highlights", type=int, default=10_000, help="highlights in the store (default 10000)")
    parser.add_argument("--streams", type=int, default=4, help="cameras (default 4)")
    parser.add_argument("--days", type=float, default=30.0, help="the highlights' span in days (default 30)")
    parser.add_argument("--score-hz", type=float, default=0.5, help="stored final scores per second (default 0.5)")
    parser.add_argument("--runs", type=int, default=20, help="API requests per figure (median)")
    parser.add_argument("--loads", type=int, default=5, help="page loads in the browser (median)")
    parser.add_argument("--no-browser", action="store_true", help="API figures only")
    args = parser.parse_args(argv)
    if args.highlights < 1 or args.streams < 1:
        raise UserError("--highlights and --streams must be at least 1")
    with tempfile.TemporaryDirectory(prefix="vgsum-bench-web-") as tmp:
        folder = Path(tmp)
        path = folder / "history.db"
        started = time.perf_counter()
        day = fill(path, args.highlights, args.streams, args.days, args.score_hz, _thumbnail(folder))
        fill_s = time.perf_counter() - started
        print(f"store: {args.highlights} highlights on {args.streams} streams over {args.days:g} days, "
              f"{int(DAY * args.score_hz)} scores per stream for the last day ({path.stat().st_size / 1e6:.1f} MB, "
              f"filled in {fill_s:.1f} s)")
        with WebServer(WebConfig(port=0), path) as web:
            figures = [
                ("API: first page of highlights (50, all streams)", f"{web.url}/api/highlights?limit=50"),
                ("API: one day of one stream, highlights (up to 500)",
                 f"{web.url}/api/highlights?stream=cam0&since={day}&until={day + DAY}&limit=500"),
                ("API: one day of one stream, scores (800 points)",
                 f"{web.url}/api/scores?stream=cam0&since={day}&until={day + DAY}&max_points=800"),
                ("API: object filter, first page", f"{web.url}/api/highlights?object=dog&limit=50"),
                ("API: query filter, first page", f"{web.url}/api/highlights?query=red%20car&limit=50"),
            ]
            print("| measure | median ms | bytes |")
            print("| --- | --- | --- |")
            for name, url in figures:
                ms, size = _median_ms(url, args.runs)
                print(f"| {name} | {ms:.1f} | {size} |")
            if not args.no_browser:
                loads = _page_load_ms(web.url + "/", args.loads)
                print(f"| page: navigation to first rendered list (headless chromium, median of {len(loads)}) "
                      f"| {statistics.median(loads):.0f} | - |")
    return 0
