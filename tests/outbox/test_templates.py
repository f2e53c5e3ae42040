"""A message template a firm writes: checked against its placeholders, rendered, previewed."""

import pytest
from django.core.exceptions import ValidationError

from renocrm.outbox.templates import MessageTemplate

REMINDER = MessageTemplate(
    default="Dear {customer_name}, we measure your home on {day}.",
    placeholders={"customer_name": "customer name", "day": "day"},
    field="reminder_template",
)


def test_a_firms_text_with_known_placeholders_is_kept_as_written():
    assert REMINDER.check("{customer_name}您好，{day}上门量房") == "{customer_name}您好，{day}上门量房"


@pytest.mark.parametrize("text", ["Hello {nickname}", "Hello {customer_name", "Hello {}"])
def test_an_unknown_placeholder_or_a_broken_brace_is_refused_on_the_settings_field(text):
    with pytest.raises(ValidationError) as refused:
        REMINDER.check(text)
    assert list(refused.value.message_dict) == ["reminder_template"]


def test_the_unknown_placeholder_is_named_with_those_allowed():
    with pytest.raises(ValidationError) as refused:
        REMINDER.check("Hello {nickname}")
    [message] = refused.value.message_dict["reminder_template"]
    assert "{nickname}" in message and "{customer_name}, {day}" in message


def test_an_empty_text_renders_the_default():
    values = {"customer_name": "Wang", "day": "3 May"}
    assert REMINDER.render("", values) == "Dear Wang, we measure your home on 3 May."
    assert REMINDER.render("{day}: {customer_name}", values) == "3 May: Wang"


def test_a_preview_leaves_unknown_or_broken_placeholders_as_typed():
    assert REMINDER.preview("Hi {customer_name}, {nickname}", {"customer_name": "Wang"}) == "Hi Wang, {nickname}"
    assert REMINDER.preview("Hi {customer_name", {"customer_name": "Wang"}) == "Hi {customer_name"
    assert REMINDER.preview(None, {"customer_name": "Wang", "day": "3 May"}).startswith("Dear Wang")
