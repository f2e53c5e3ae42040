"""Driving Debian's chromium through Playwright: the launch arguments and the steps every page test takes."""

from pathlib import Path

from django.conf import settings

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def log_in(page, live_server, username, password="pass-for-tests-1"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").click()


def go(page, locator):
    """Click something that loads a page, and wait until its deferred scripts have run."""
    with page.expect_navigation(wait_until="load"):
        locator.click()
