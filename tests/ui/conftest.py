import pytest
from playwright.sync_api import sync_playwright

from tests.ui.browser import CHROMIUM_ARGS, SCREENSHOTS


@pytest.fixture
def browser(monkeypatch, transactional_db):
    # Playwright's sync API runs an event loop in this thread; the ORM calls of fixtures and the live server's
    # requests are synchronous all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
