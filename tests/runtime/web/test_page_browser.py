"""The history page in a real headless browser (Debian's chromium via Selenium) over a real run's store.

One test walks what an owner does: the page lists the run's highlight, its clip
plays, a highlight written while the page is open appears without a reload, and
the screenshot is a picture, not a blank page. Skips when chromium or its driver
is absent, except under CI (`CI=true`, where .ci/run installs them): the `browser`
fixture lives in conftest.py, shared with the recap's browser test.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from polling import holds_for
from polling import wait_in_page as _wait
from web_history import RealRun, StoreFiller, fill_from_run, thumbnail_of

from vgsum.runtime.web.config import WebConfig
from vgsum.runtime.web.server import WebServer


@pytest.mark.slow
def test_page_lists_plays_updates_live_and_draws(browser, store: StoreFiller, real_run: RealRun, tmp_path: Path):
    from PIL import Image, ImageStat
    from selenium.webdriver.common.by import By

    wall0 = time.time() - 600
    ids = fill_from_run(store, real_run)
    name = real_run.stream_id
    with WebServer(WebConfig(port=0), store.path, live_states=lambda: {name: "ended"}, poll_s=0.2) as web:
        browser.get(web.url + "/")
        listed = _wait(lambda: {i.get_attribute("data-id"): i.text
                                for i in browser.find_elements(By.CSS_SELECTOR, "#highlights li.highlight")},
                       what="the list")
        assert sorted(listed) == sorted(ids)
        for h in real_run.highlights:  # each shows the objects the run detected in it
            assert all(label in listed[h["id"]] for label in h["objects"]), (listed[h["id"]], h["objects"])
        _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".stream svg.timeline rect.span"), what="the timeline")
        _wait(lambda: browser.find_element(By.ID, "feed").text == "live", what="the live feed")
        shown = browser.find_element(By.TAG_NAME, "main").text
        assert name in shown and "ended" in shown and "null" not in shown and "undefined" not in shown

        # plays the clip the run wrote (H.264 MP4, served with Range)
        _wait(lambda: browser.find_element(By.CSS_SELECTOR, "#highlights li.highlight").click() or True,
              what="a click on the first highlight")
        video = browser.find_element(By.ID, "player")
        error = "return arguments[0].error && arguments[0].error.message"
        _wait(lambda: browser.execute_script("return arguments[0].currentTime", video) > 0.5, timeout=15,
              what=f"the clip to play (media error: {browser.execute_script(error, video)})")
        assert browser.execute_script("return arguments[0].videoWidth", video) == 640

        clip = Path(real_run.highlights[0]["clip"])  # a highlight written while the page is open
        store.highlight("live0001", name, start=12.0, end=15.0, wall0=wall0, score=0.91,
                        objects={"dog": 1}, query="a dog on the street", clip=clip,
                        thumbnail=thumbnail_of(clip, tmp_path / "live.jpg"), phase="start")
        _wait(lambda: all(word in browser.find_element(By.CSS_SELECTOR, 'li.highlight[data-id="live0001"]').text
                          for word in ("a dog on the street", "still open")),
              what="the live highlight, open")
        store.highlight("live0001", name, start=12.0, end=16.0, wall0=wall0, score=0.93,
                        objects={"dog": 2}, query="a dog on the street", clip=clip, phase="end")
        _wait(lambda: "still open" not in browser.find_element(
            By.CSS_SELECTOR, 'li.highlight[data-id="live0001"]').text, what="the highlight's end")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#highlights li.highlight")) == len(ids) + 1

        png = browser.get_screenshot_as_png()
        (tmp_path / "page.png").write_bytes(png)
        image = Image.open(io.BytesIO(png)).convert("L")
        assert image.size[0] >= 1000
        assert ImageStat.Stat(image).stddev[0] > 20, "the screenshot is (nearly) one colour"


@pytest.mark.slow
def test_page_draws_a_cameras_masks_and_zones_over_its_latest_picture(browser, store: StoreFiller, real_run: RealRun):
    from selenium.webdriver.common.by import By

    fill_from_run(store, real_run)
    name = real_run.stream_id
    regions = {name: {"masks": [[[0.0, 0.0], [0.3, 0.0], [0.3, 0.1], [0.0, 0.1]]],
                      "zones": [{"name": "kerb", "polygon": [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]}]}}
    with WebServer(WebConfig(port=0), store.path, live_states=lambda: {name: "streaming"}, poll_s=0.2,
                   regions=lambda: regions) as web:
        browser.get(web.url + "/")
        figure = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, f'.stream[data-stream="{name}"] figure.regions'),
                       what="the regions figure")[0]
        picture = figure.find_element(By.TAG_NAME, "img")
        _wait(lambda: browser.execute_script("return arguments[0].naturalWidth", picture) > 0,
              what="the latest picture to load")
        masks = figure.find_elements(By.CSS_SELECTOR, "svg.regions polygon.mask")
        zones = figure.find_elements(By.CSS_SELECTOR, "svg.regions polygon.zone")
        assert len(masks) == 1 and masks[0].get_attribute("points") == "0,0 0.3,0 0.3,0.1 0,0.1"
        assert [z.get_attribute("data-zone") for z in zones] == ["kerb"]
        box = zones[0].rect  # drawn over the picture: the zone covers its lower half, inside the image
        image = picture.rect
        assert box["width"] > 0.7 * image["width"] and box["y"] >= image["y"] + 0.4 * image["height"] - 2
        # the live feed's next snapshots must keep the figure (they carry the regions too)
        holds_for(lambda: bool(browser.find_elements(By.CSS_SELECTOR, f'.stream[data-stream="{name}"] polygon.zone')),
                  1.0, "the zone drawn while the live feed updates the streams")
