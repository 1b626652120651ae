"""The playground in a real headless Chromium: load, edit, see the decision and highlight change, errors in place,
a lesson completed, a share link round-tripped, keyboard use and a narrow window.

Set ``PE_PLAYGROUND_SCREENSHOTS=DIR`` to save the main views as PNG (how docs/playground/*.png are made).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium, needs_browser

pytestmark = needs_browser
SHOTS = os.environ.get("PE_PLAYGROUND_SCREENSHOTS")


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def shot(driver: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def answers(driver: Any) -> int:
    return int(driver.execute_script("return document.body.dataset.answers || '0'"))


def open_page(driver: Any, url: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
    return driver


def wait_answer(driver: Any, before: int) -> None:
    """Wait until an answer newer than ``before`` has been drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: answers(d) > before)
    time.sleep(0.05)


def set_editor(driver: Any, editor: str, text: str) -> None:
    """Replace an editor's text the way typing does (an `input` event), then wait for the answer."""
    before = answers(driver)
    driver.execute_script(
        "const t = document.querySelector(`textarea[data-editor='${arguments[0]}']`);"
        "t.closest('details').open = true; t.value = arguments[1]; t.dispatchEvent(new Event('input'));",
        editor,
        text,
    )
    wait_answer(driver, before)


def decision(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, "decision").text)


def test_edit_apply_and_highlight(driver: Any, playground_url: str) -> None:
    """Default workspace denies; Apply on the verified suggestion allows, and the deciding statement is highlighted."""
    from selenium.webdriver.common.by import By

    open_page(driver, playground_url + "/")
    assert "DENY (implicit)" in decision(driver)
    assert "the key policy lets the caller's account in" in decision(driver)
    shot(driver, "deny-with-suggestion")
    before = answers(driver)
    driver.find_element(By.CSS_SELECTOR, "#suggestions button").click()
    wait_answer(driver, before)
    assert "ALLOW" in decision(driver)
    marks = driver.find_elements(By.CSS_SELECTOR, "details[data-editor='identity_policies.0'] pre mark.deciding-allow")
    assert len(marks) == 1 and '"kms:Decrypt"' in marks[0].get_attribute("textContent")
    key_marks = driver.find_elements(By.CSS_SELECTOR, "details[data-editor='key_policy'] pre mark.deciding-allow")
    assert key_marks and "arn:aws:iam::111122223333:root" in key_marks[0].get_attribute("textContent")
    shot(driver, "allow-highlighted")
    # Now a Deny in the key policy: the decision and the highlight move to it.
    policy = json.loads(driver.execute_script("return document.querySelector(\"textarea[data-editor='key_policy']\").value"))
    policy["Statement"].append({"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"})
    set_editor(driver, "key_policy", json.dumps(policy, indent=2))
    assert "DENY (explicit)" in decision(driver)
    deny = driver.find_elements(By.CSS_SELECTOR, "details[data-editor='key_policy'] pre mark.deciding-deny")
    assert len(deny) == 1 and "NoDecrypt" in deny[0].get_attribute("textContent")
    tree = driver.find_element(By.ID, "trace").text
    assert "Deny NoDecrypt" in tree and "applies" in tree


def test_errors_are_shown_in_place(driver: Any, playground_url: str) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, playground_url + "/")
    set_editor(driver, "key_policy", '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow" "Action": "kms:*"}]\n}')
    issues = driver.find_element(By.CSS_SELECTOR, "details[data-editor='key_policy'] .issues").text
    assert issues.startswith("3:") and "comma" in issues.lower()
    assert driver.find_elements(By.CSS_SELECTOR, "details[data-editor='key_policy'] pre mark.issue")
    assert driver.find_elements(By.CSS_SELECTOR, "details[data-editor='key_policy'] .gutter .mark.error")
    assert "No answer yet" in decision(driver)
    shot(driver, "error-in-place")
    # An unknown action is an answer, not a blank panel; a 32 KB policy still answers.
    big = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"S{i}",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::111122223333:role/R{i}"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
            for i in range(250)
        ],
    }
    set_editor(driver, "key_policy", json.dumps(big, indent=2))
    assert "DENY (implicit)" in decision(driver)
    before = answers(driver)
    driver.execute_script(
        "const a = document.getElementById('r-action'); a.value = 'kms:Decypt'; a.dispatchEvent(new Event('input'));"
    )
    wait_answer(driver, before)
    request_issues = driver.find_element(By.ID, "request-issues").text
    assert "`kms:Decypt` is not an action of kms" in request_issues and "`kms:Decrypt`" in request_issues


def test_complete_a_lesson(driver: Any, playground_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(driver, playground_url + "/")
    before = answers(driver)
    driver.find_element(By.CSS_SELECTOR, "#lesson-list button[data-lesson='default-key-policy']").click()
    wait_answer(driver, before)
    assert "Let AppRole decrypt" in driver.find_element(By.ID, "lesson-exercise").text
    driver.find_element(By.ID, "lesson-check").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "lesson-result").text)
    assert "Not yet" in driver.find_element(By.ID, "lesson-result").text
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    solution = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]}
    set_editor(driver, "identity_policies.0", json.dumps(solution))
    driver.find_element(By.ID, "lesson-check").click()
    WebDriverWait(driver, 20).until(lambda d: "Done" in d.find_element(By.ID, "lesson-result").text)
    assert "done" in driver.find_element(By.CSS_SELECTOR, "#lesson-list li.done").text.lower()
    shot(driver, "lesson-done")


def test_share_link_round_trip(driver: Any, playground_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(driver, playground_url + "/")
    set_editor(driver, "request.encryption_context", '{"app": "payments"}')
    text = driver.execute_script("return document.querySelector(\"textarea[data-editor='key_policy']\").value")
    driver.find_element(By.ID, "share").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "share-link").get_attribute("value"))
    link = driver.find_element(By.ID, "share-link").get_attribute("value")
    assert "#w=" in link
    driver.get("about:blank")
    open_page(driver, link)
    assert driver.execute_script("return document.querySelector(\"textarea[data-editor='key_policy']\").value") == text
    context = driver.execute_script("return document.querySelector(\"textarea[data-editor='request.encryption_context']\").value")
    assert json.loads(context) == {"app": "payments"}
    from policyengine.playground import unpack

    assert unpack(link).request["encryption_context"] == '{"app": "payments"}'  # the Python side reads the page's links


def test_keyboard_and_narrow_window(driver: Any, playground_url: str) -> None:
    """Every control is a real button, input or textarea (so Tab reaches it), and a narrow window stacks the columns."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_page(driver, playground_url + "/")
    principal = driver.find_element(By.ID, "r-principal")
    principal.click()
    principal.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "r-action"
    clickable = driver.execute_script("return [...document.querySelectorAll('[onclick], div[tabindex], span[tabindex]')].length")
    assert clickable == 0
    unlabeled = driver.execute_script(
        "return [...document.querySelectorAll('button')]"
        ".filter(b => !(b.textContent.trim() || b.getAttribute('aria-label'))).length"
    )
    assert unlabeled == 0
    driver.set_window_size(600, 900)
    columns = driver.execute_script(
        "return getComputedStyle(document.querySelector('main')).gridTemplateColumns.split(' ').length"
    )
    assert columns == 1
    shot(driver, "narrow")
    driver.set_window_size(1280, 800)
