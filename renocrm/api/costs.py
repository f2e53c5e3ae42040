"""Cost prices in API answers and writes (docs/api.md, "Cost prices"): what something costs the firm is shown
only to a principal who may see costs (``may_see_costs``: a member with costs.view, a key with costs:read).

The one rule for writes: a caller without costs:read who sends a cost that is not null gets 400 on that
field; a null or left-out cost is fine and means "leave it as it is"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from renocrm.accounts.access import may_see_costs

COSTS_REFUSED = _("Setting cost prices needs costs:read (costs.view).")


def _sent(value) -> bool:
    return value not in (None, "")


def refuse_costs(request, rows: Iterable[Mapping], *, fields: Iterable[str] = ("cost_price",)) -> None:
    """The write rule for ``rows`` (a body, or each line of one): 400 on each cost field that a caller who may
    not see costs sent with a value. No request means nobody who may see costs."""
    if request is not None and may_see_costs(request):
        return
    fields = tuple(fields)
    refused = sorted({field for row in rows or () for field in fields if _sent(row.get(field))})
    if refused:
        raise serializers.ValidationError({field: [COSTS_REFUSED] for field in refused})


class CostFieldsMixin:
    """For a serializer with cost figures: ``cost_fields = ("cost_price",)`` come null in every answer to a
    caller who may not see costs (the field stays, so a client's parser need not branch; no request in the
    context means null: the mixin fails closed). On input, writable cost fields follow ``refuse_costs``, and
    a null one from such a caller is left out, as if not sent."""

    cost_fields: tuple[str, ...] = ()

    def _may_see_costs(self) -> bool:
        request = self.context.get("request")
        return request is not None and may_see_costs(request)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._may_see_costs():
            for field in self.cost_fields:
                data[field] = None
        return data

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not self._may_see_costs():
            refuse_costs(self.context.get("request"), [data], fields=self.cost_fields)
            if any(field in data for field in self.cost_fields):
                data = data.copy()
                for field in self.cost_fields:
                    data.pop(field, None)
        return super().to_internal_value(data)
