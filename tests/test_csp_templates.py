"""The Content-Security-Policy allows no inline script, inline style or event-handler attribute: a template
that adds one would break its page in the browser. This finds them without starting one."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
FORBIDDEN = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"  # a script element with code inside
    r"|<style\b"
    r"|\sstyle=\""
    r"|\son[a-z]+=\""  # onclick=, onfocus=, onsubmit= …
    r"|javascript:",
    re.IGNORECASE,
)


def our_templates():
    for folder in [ROOT / "templates", *ROOT.glob("*/templates"), *ROOT.glob("renocrm/*/templates")]:
        yield from folder.rglob("*.html")


def test_no_template_has_inline_script_style_or_event_handlers():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
        for path in our_templates()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert list(our_templates()), "no templates found"
    assert not found, "\n".join(found)
