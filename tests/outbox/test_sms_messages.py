"""Every SMS names its approved-template key and values: the keys and parameters the senders use are the ones
renocrm.outbox.sms_messages lists (and the firms map to their templates), and each list entry is used."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from renocrm.outbox import sms
from renocrm.outbox.models import Notification
from renocrm.outbox.sms_messages import SMS_KINDS, clean_template, parse_param_map, template_values
from renocrm.tenancy.context import tenant_context

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("renocrm", "leads", "contracts", "worksites", "aftercare", "callbacks", "complaints")


def _python_files():
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _is_sms(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "SMS" and ast.unparse(node).endswith("Channel.SMS")


def _calls_and_dicts():
    """(where, keywords as {name: node}, has ** unpacking) of every notification_send-like call and message dict."""
    for path, tree in _python_files():
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                yield where, keywords, any(k.arg is None for k in node.keywords)
            elif isinstance(node, ast.Dict):
                keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
                yield where, keys, any(k is None for k in node.keys)


def test_every_sms_names_its_template():
    missing = [
        where
        for where, fields, unpacked in _calls_and_dicts()
        if _is_sms(fields.get("channel")) and "body" in fields and "sms_template" not in fields and not unpacked
    ]
    assert not missing, f"SMS without sms_template=…: {missing}"


def test_the_keys_and_values_senders_use_are_listed():
    used, problems = set(), []
    for where, fields, _unpacked in _calls_and_dicts():
        template = fields.get("sms_template")
        if not isinstance(template, ast.Constant) or not template.value:
            continue
        used.add(template.value)
        kind = SMS_KINDS.get(template.value)
        if kind is None:
            problems.append(f"{where}: unknown key {template.value}")
            continue
        params = fields.get("sms_params")
        if isinstance(params, ast.Dict):
            names = {k.value for k in params.keys if isinstance(k, ast.Constant)}
            # homeowner_text_send adds the portal link as "url".
            unknown = names - set(kind.param_names)
            if unknown:
                problems.append(f"{where}: {template.value} has no {sorted(unknown)}")
    assert not problems, problems
    source = "\n".join(path.read_text() for path, _tree in _python_files())
    unused = [key for key in SMS_KINDS if f'"{key}"' not in source.replace("sms_messages.py", "")]
    assert not unused, f"listed but never sent: {unused}"
    assert used <= set(SMS_KINDS)


def test_parameter_mappings():
    assert parse_param_map("name=customer_name，link = survey_link\n") == {
        "name": "customer_name",
        "link": "survey_link",
    }
    with pytest.raises(ValidationError):
        parse_param_map("name")
    with pytest.raises(ValidationError):
        parse_param_map("a=firm, a=project")
    mapping = clean_template(
        provider="tencent", key="worksites.portal_link", code="1968002", params={"2": "url", "1": "firm"}
    )
    values = {"firm": "美家装饰", "url": "https://x/p/1", "project": "翠湖苑"}
    assert template_values("worksites.portal_link", mapping, values) == [("1", "美家装饰"), ("2", "https://x/p/1")]
    # Without a mapping: the message's own names, in the listed order, every one of them.
    assert [name for name, _v in template_values("worksites.portal_link", {"code": "1"}, values)] == [
        "firm",
        "project",
        "url",
        "date",
        "phone",
    ]
    for bad in (
        {"provider": "aliyun", "code": "1968002", "params": {}},
        {"provider": "tencent", "code": "SMS_1", "params": {}},
        {"provider": "tencent", "code": "1", "params": {"1": "firm", "3": "url"}},
        {"provider": "aliyun", "code": "SMS_1", "params": {"a-b": "firm"}},
        {"provider": "aliyun", "code": "", "params": {"a": "firm"}},
    ):
        with pytest.raises(ValidationError):
            clean_template(key="worksites.portal_link", **bad)
    assert clean_template(provider="aliyun", key="worksites.portal_link", code="", params={}) == {}


def test_the_survey_link_text_carries_its_key_and_the_same_link(firm_a):
    from callbacks.models import Method
    from callbacks.services.actions import callback_sms_send
    from tests.callbacks.factories import CallbackFactory

    sms.outbox.clear()
    with tenant_context(firm_a):
        callback = CallbackFactory(method=Method.SMS, status="open")
        note = callback_sms_send(callback=callback, base_url="https://crm.example.cn")
        note.refresh_from_db()
    assert note.channel == Notification.Channel.SMS and note.sms_template == "callbacks.survey_link"
    assert set(note.sms_params) == set(SMS_KINDS["callbacks.survey_link"].param_names)
    assert note.sms_params["survey_link"] in note.body


def test_every_staff_message_goes_through_the_installation():
    from renocrm.outbox.sms_messages import FIRM_MESSAGES, INSTALLATION_ONLY

    staff = {key for key in SMS_KINDS if key.startswith("staff.")}
    assert staff and staff == INSTALLATION_ONLY
    assert not {kind.key for kind in FIRM_MESSAGES} & INSTALLATION_ONLY
