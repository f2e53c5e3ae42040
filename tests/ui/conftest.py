import pytest
from playwright.sync_api import sync_playwright

from tests.ui.browser import CHROMIUM_ARGS, SCREENSHOTS

# Runs in every page before its own scripts (and outside the page's Content-Security-Policy): a blocked
# script, style, image or connection is reported on the console, where the fixture collects it.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${blocked} on ${location.pathname}`);
});
"""


class CspWatchingBrowser:
    """The Playwright browser, with every page it opens watched for Content-Security-Policy violations."""

    def __init__(self, browser):
        self._browser = browser
        self.violations: list[str] = []

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def _watch(self, context):
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("console", self._on_console)
        return context

    def _on_console(self, message):
        text = message.text
        if message.type == "error" and ("CSP violation" in text or "Content Security Policy" in text):
            self.violations.append(text)

    def new_context(self, **options):
        return self._watch(self._browser.new_context(**options))

    def new_page(self, **options):
        # Its own context, as with Browser.new_page; closing the browser closes it.
        return self.new_context(**options).new_page()


@pytest.fixture
def browser(monkeypatch, transactional_db):
    # Playwright's sync API runs an event loop in this thread; the ORM calls of fixtures and the live server's
    # requests are synchronous all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = CspWatchingBrowser(
            playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        )
        yield browser
        browser.close()
    # Every page of every browser test runs under the site's Content-Security-Policy: nothing may be blocked.
    assert browser.violations == []
