"""Every model and field the audit log shows has a name in the firm's language: its own verbose_name, or the
one Django makes up, listed in renocrm/audit/names.py for translation."""

from django.utils import translation
from django.utils.functional import Promise

from renocrm.audit.names import AUTO_NAMES
from renocrm.audit.records import field_name, model_for_table, model_name
from renocrm.tenancy.db import tenant_models

NOISE = {"id", "tenant_id"}


def made_up_names() -> dict[str, str]:
    """Each name Django made up, with one place it comes from."""
    found = {}
    for model in tenant_models():
        if not model.audited:
            continue
        if not isinstance(model._meta.verbose_name, Promise):
            found.setdefault(model._meta.verbose_name, model._meta.label)
        for field in model._meta.concrete_fields:
            if field.column not in NOISE and not isinstance(field.verbose_name, Promise):
                found.setdefault(field.verbose_name, f"{model._meta.label}.{field.name}")
    return found


def test_every_made_up_name_is_marked_for_translation():
    with translation.override("en"):  # the English names, as written in the list
        listed = {str(name) for name in AUTO_NAMES}
    missing = {name: where for name, where in made_up_names().items() if name not in listed}
    assert not missing, (
        "Give these a verbose_name, or list them in renocrm/audit/names.py (with their Chinese in the catalogue): "
        f"{missing}"
    )


def test_names_are_shown_in_the_language_of_the_page():
    follow_up, lead = model_for_table("leads_followup"), model_for_table("leads_lead")
    with translation.override("zh-hans"):
        assert (model_name(follow_up), field_name(follow_up, "by_id"), field_name(follow_up, "at")) == (
            "跟进记录",
            "操作人",
            "时间",
        )
        assert (model_name(lead), field_name(lead, "assigned_to_id")) == ("线索", "客户经理")
    with translation.override("en"):
        assert (model_name(follow_up), field_name(follow_up, "by_id")) == ("Follow up", "By")
        assert field_name(lead, "no_longer_there") == "no_longer_there"
