"""The page in a real browser: Playwright drives Debian's chromium (scripts/setup installs it) against a live
server on loopback. Hide two pictures, download the stego, reveal it on the Reveal tab, and see an error as the
server phrased it."""
import shutil
import socket
import threading
import time

import numpy as np
import pytest
import uvicorn
from PIL import Image
from playwright.sync_api import expect, sync_playwright

import exypno
from exypno.serve import create_app

from .conftest import smooth_photo


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "no chromium: run bash scripts/setup (it installs Debian's chromium package)"
    return path


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    live = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    for _ in range(200):
        if live.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    live.should_exit = True
    thread.join(10)


def test_hide_download_reveal_in_chromium(server, tmp_path):
    rng = np.random.default_rng(7)
    cover, secret = smooth_photo(rng, 128, 160), smooth_photo(rng, 128, 160)
    Image.fromarray(cover).save(tmp_path / "cover.png")
    Image.fromarray(secret).save(tmp_path / "secret.png")
    (tmp_path / "noise.png").write_bytes(b"not a picture at all")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium())
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(server)
        page.set_input_files("#panel-hide input[name=cover]", tmp_path / "cover.png")
        page.set_input_files("#panel-hide input[name=secret]", tmp_path / "secret.png")
        page.click("#panel-hide button[type=submit]")
        expect(page.locator("#results img[alt=stego]")).to_be_visible(timeout=60_000)
        expect(page.locator("#results .psnr")).to_contain_text("Cover PSNR")
        with page.expect_download() as download:
            page.click("#results .download")
        download.value.save_as(tmp_path / "stego.png")
        assert download.value.suggested_filename == "cover-stego.png"
        assert np.array_equal(np.asarray(Image.open(tmp_path / "stego.png")), exypno.hide(cover, secret))

        page.focus("#tab-hide")  # the tabs answer the keyboard: from Hide, the right arrow goes to Reveal
        page.keyboard.press("ArrowRight")
        expect(page.locator("#panel-reveal")).to_be_visible()
        page.set_input_files("#panel-reveal input[name=stego]", tmp_path / "stego.png")
        page.click("#panel-reveal button[type=submit]")
        expect(page.locator("#results img[alt=revealed]")).to_be_visible(timeout=60_000)
        expect(page.locator("#results .psnr")).to_contain_text("Secret PSNR")
        page.screenshot(path=tmp_path / "page.png", full_page=True)

        page.click("#tab-unseal")
        page.set_input_files("#panel-unseal input[name=stego]", tmp_path / "noise.png")
        page.fill("#panel-unseal input[name=passphrase]", "pw")
        page.click("#panel-unseal button[type=submit]")
        expect(page.locator("#error")).to_have_text("stego/noise.png: not an image file Exypno can read")
        page.set_viewport_size({"width": 375, "height": 740})  # a phone: nothing runs off the side
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        browser.close()
    shot = np.asarray(Image.open(tmp_path / "page.png"))
    assert shot.shape[1] == 1000 and shot.std() > 10  # a page was drawn, not a blank
