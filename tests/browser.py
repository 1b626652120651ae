"""Headless Chromium for the browser tests (the access report, the playground), one recipe for both.

Skipped only outside CI: ``.ci/run`` installs Chromium and its driver from Debian, so in CI a
missing browser is a failure, not a skip. The flags keep Chromium off the network (this machine
has none, and a page that needs one is a bug the tests should see).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

needs_browser = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()) and not os.environ.get("CI"),
    reason="Chromium and chromedriver are not installed (Debian: apt-get install -y chromium chromium-driver)",
)


@contextmanager
def chromium(window: str = "1280,800") -> Iterator[Any]:
    """A headless Chromium driven by Selenium, closed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--window-size={window}",
        "--proxy-server=http://127.0.0.1:9",  # any request off this machine would fail: pages must not need one
        "--proxy-bypass-list=127.0.0.1",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
