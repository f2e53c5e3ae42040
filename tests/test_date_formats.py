"""Times of day read the same in both languages, written once in the format settings."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
MORNING = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


@pytest.mark.parametrize(
    ("language", "day"), [("zh-hans", "2026年12月7日"), ("en", "Dec. 7, 2026")], ids=["zh-hans", "en"]
)
def test_a_time_of_day_reads_alike_in_both_languages_and_a_day_as_the_language_writes_it(language, day):
    template = Template('{{ at|date:"SHORT_DATETIME_FORMAT" }} / {{ at|date:"DATE_FORMAT" }}')
    with translation.override(language):
        assert template.render(Context({"at": MORNING})) == f"2026-12-07 09:30 / {day}"


def test_templates_name_the_format_of_a_time_of_day_instead_of_spelling_it():
    spelled = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"""date:["']Y-m-d H:i["']""", line)
    ]
    assert spelled == []
