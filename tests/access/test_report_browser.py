"""The HTML report in a real headless Chromium (Selenium): it renders, a click explains, and it works offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policyengine.access import Access, access_matrix, render_html
from tests.browser import chromium, needs_browser

pytestmark = needs_browser


@pytest.fixture(scope="module")
def report(access: Access, tmp_path_factory: pytest.TempPathFactory) -> Path:
    matrix = access_matrix(access, subjects=access.subjects.principals())
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(matrix, title="fixture org"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as driver:
        yield driver


def _open(browser: object, report: Path) -> object:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(report.as_uri())  # type: ignore[attr-defined]
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
    return browser


def test_report_renders_matrix(browser: object, report: Path) -> None:
    """Opened from file:// the page draws one row per principal and colours allow, conditional and deny cells."""
    from selenium.webdriver.common.by import By

    driver = _open(browser, report)
    rows = driver.find_elements(By.CSS_SELECTOR, "#tbody tr")  # type: ignore[attr-defined]
    assert len(rows) == 11
    assert driver.find_elements(By.CSS_SELECTOR, "td.cell span.a")  # type: ignore[attr-defined]
    assert driver.find_elements(By.CSS_SELECTOR, "td.cell span.c")  # type: ignore[attr-defined]
    assert "11 principals × 4 keys × 4 groups" in driver.find_element(By.ID, "summary").text  # type: ignore[attr-defined]


def test_click_shows_explanation_with_path_and_residual(browser: object, report: Path) -> None:
    """Clicking alice's payments cell shows the assumption path, the residual condition and the deciding statements."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = _open(browser, report)
    Select(driver.find_element(By.ID, "f-group")).select_by_value("crypto")  # type: ignore[attr-defined]
    row = next(
        r for r in driver.find_elements(By.CSS_SELECTOR, "#tbody tr") if r.find_element(By.TAG_NAME, "th").text == "user/alice"
    )  # type: ignore[attr-defined]
    payments = next(i for i, h in enumerate(driver.find_elements(By.CSS_SELECTOR, "#thead th")[1:]) if h.text == "alias/payments")  # type: ignore[attr-defined]
    row.find_elements(By.CSS_SELECTOR, "td.cell")[payments].click()
    detail = driver.find_element(By.ID, "detail").text  # type: ignore[attr-defined]
    assert "user/alice -> role/deployer -> role/app -> kms:Decrypt" in detail
    assert "aws:MultiFactorAuthPresent = true" in detail
    assert "kms:ViaService = s3.us-east-1.amazonaws.com" in detail
    assert "AllowAppUse" in detail


def test_filters_by_account(browser: object, report: Path) -> None:
    """The principal-account filter keeps only that account's rows; a denied cell explains its reason."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = _open(browser, report)
    Select(driver.find_element(By.ID, "f-paccount")).select_by_value("333333333333")  # type: ignore[attr-defined]
    labels = [r.find_element(By.TAG_NAME, "th").text for r in driver.find_elements(By.CSS_SELECTOR, "#tbody tr")]  # type: ignore[attr-defined]
    assert labels == ["user/dave", "role/auditor"]
    Select(driver.find_element(By.ID, "f-group")).select_by_value("administer")  # type: ignore[attr-defined]
    driver.find_elements(By.CSS_SELECTOR, "#tbody td.cell")[0].click()  # type: ignore[attr-defined]
    assert "deny" in driver.find_element(By.ID, "detail").text  # type: ignore[attr-defined]


def test_works_offline(browser: object, report: Path) -> None:
    """The page loads nothing from anywhere: no external URLs in it, and the browser fetched no resource."""
    driver = _open(browser, report)
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0  # type: ignore[attr-defined]
    text = report.read_text()
    assert "http://" not in text and "https://" not in text
