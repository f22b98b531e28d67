"""The page's Recap action in a real headless Chromium over a real run's store and the real recap service.

What an owner does: open the page, press Recap, wait; the recap plays in its own
player with its captions track loaded (one cue per part), the parts are listed
as chapters, and a click on a chapter jumps the video there. A page server
without a recap service shows no Recap control.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from polling import holds_for
from polling import wait_in_page as _wait
from web_history import RealRun, StoreFiller, fill_from_run

from vgsum.runtime.recap.jobs import RecapJobs
from vgsum.runtime.web.config import WebConfig
from vgsum.runtime.web.server import WebServer


@pytest.mark.slow
def test_recap_plays_with_captions_and_chapters(browser, store: StoreFiller, real_run: RealRun, tmp_path: Path):
    from selenium.webdriver.common.by import By

    ids = fill_from_run(store, real_run)
    name = real_run.stream_id
    first = real_run.highlights[0]
    wall0 = time.time() - 7200
    for n in range(2):  # the run's clip again, earlier in the day: a recap of three parts to jump between
        store.highlight(f"again{n}", name, start=100.0 * n, end=100.0 * n + first["end"] - first["start"],
                        wall0=wall0, score=0.8, objects={"bicycle": 1}, clip=Path(first["clip"]))
        ids.append(f"again{n}")
    jobs = RecapJobs(store.path, tmp_path / "recaps").start()
    try:
        with WebServer(WebConfig(port=0), store.path, live_states=lambda: {name: "ended"}, poll_s=0.2,
                       recaps=jobs) as web:
            browser.get(web.url + "/")
            _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#highlights li.highlight")) == len(ids),
                  what="the list")
            button = _wait(lambda: (b := browser.find_element(By.ID, "recap-button")).is_displayed() and b,
                           what="the Recap control")
            budget = browser.find_element(By.NAME, "budget")
            assert budget.get_attribute("value") == "3m"
            button.click()

            video = _wait(lambda: (v := browser.find_element(By.ID, "recap-player")).get_attribute("data-id") and v,
                          timeout=60, what=f"the recap (status: {browser.find_element(By.ID, 'recap-status').text})")
            recap_id = video.get_attribute("data-id")
            state = jobs.state(recap_id)
            assert state is not None and state["state"] == "done"
            parts = state["parts"]
            assert len(parts) >= 3 and {p["highlight_id"] for p in parts} <= set(ids)

            # it plays (H.264 with Range), muted, in the page's own player
            error = "return arguments[0].error && arguments[0].error.message"
            _wait(lambda: browser.execute_script("return arguments[0].currentTime", video) > 0.5, timeout=20,
                  what=f"the recap to play (media error: {browser.execute_script(error, video)})")
            assert browser.execute_script("return arguments[0].videoWidth", video) == 640
            assert browser.execute_script("return arguments[0].currentSrc", video).endswith(f"/recaps/{recap_id}.mp4")

            # the captions track is loaded: one cue per part, the parts' captions
            track = video.find_element(By.TAG_NAME, "track")
            assert track.get_attribute("kind") == "captions" and track.get_attribute("src").endswith(".vtt")
            _wait(lambda: browser.execute_script("return arguments[0].readyState", track) == 2, timeout=10,
                  what="the captions track to load")
            cues = browser.execute_script(
                "const t = arguments[0].track; return Array.from(t.cues || []).map(c => [c.startTime, c.text]);", track
            )
            assert [text for _, text in cues] == [p["caption"] for p in parts]
            assert browser.execute_script("return arguments[0].track.mode", track) == "showing"

            # the parts are listed as chapters; a click jumps there
            chapters = browser.find_elements(By.CSS_SELECTOR, "#recap-chapters li.chapter")
            assert len(chapters) == len(parts)
            assert all(p["caption"] in c.text for p, c in zip(parts, chapters, strict=True))
            status = browser.find_element(By.ID, "recap-status").text
            assert f"{len(parts)} part" in status and name in status
            last = parts[-1]
            assert last["recap_start"] > 1.0
            browser.execute_script("arguments[0].pause()", video)
            chapters[-1].click()
            now = "return arguments[0].currentTime"
            _wait(lambda: browser.execute_script(now, video) >= last["recap_start"] - 0.05,
                  what="the jump to the last chapter")
            assert browser.execute_script(now, video) < last["recap_end"] + 1.0

            # the recap is listed among the latest
            listed = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, f'#recap-list li[data-id="{recap_id}"]'),
                           what="the recap in the list")
            assert "done" in listed[0].text
            shown = browser.find_element(By.TAG_NAME, "main").text
            assert "null" not in shown and "undefined" not in shown and "NaN" not in shown
            (tmp_path / "recap.png").write_bytes(browser.get_screenshot_as_png())
    finally:
        jobs.stop()


@pytest.mark.slow
def test_no_recap_control_without_a_recap_service(browser, store: StoreFiller, real_run: RealRun):
    from selenium.webdriver.common.by import By

    fill_from_run(store, real_run)
    with WebServer(WebConfig(port=0), store.path, poll_s=0.2) as web:
        browser.get(web.url + "/")
        _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#highlights li.highlight"), what="the list")
        # the page asks /api/recaps as it loads: the control must stay hidden once it has the answer
        holds_for(lambda: not browser.find_element(By.ID, "recap-button").is_displayed(), 1.0, "a hidden Recap control")
        assert not browser.find_element(By.NAME, "budget").is_displayed()
        assert not browser.find_element(By.ID, "recap").is_displayed()
