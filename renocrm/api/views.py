"""The base every API view derives from: authentication, the firm's scope and permissions in one place."""

from __future__ import annotations

import copy
import operator
from functools import cache

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend, ModelChoiceFilter
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.fields import SkipField, empty
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField
from rest_framework.response import Response
from rest_framework.settings import api_settings

from renocrm.forms import check_clock_offset
from renocrm.tenancy.context import require_current_tenant


class FirmFilterBackend(DjangoFilterBackend):
    """django-filter, built and validated only when the query names more than the page. A plain page (the
    first, or the next by its cursor) has nothing to narrow, and building the filter form is a good part of
    a short answer's time. Parameters nobody declared never get this far (``FirmScopedMixin``)."""

    # The paginator's: the page, and the sync's time and ordering (``IdCursorPagination``).
    PAGE_PARAMETERS = frozenset({"cursor", "page_size", "ordering", "updated_after"})

    def filter_queryset(self, request, queryset, view):
        if request.query_params.keys() <= self.PAGE_PARAMETERS:
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_filterset_class(self, view, queryset=None):
        filterset_class = super().get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        # Keyed by the view: django-filter builds a new class for ``filterset_fields`` on every call, so a key
        # by that class would grow with every filtered request.
        firm_class = _FIRM_FILTERSETS.get(type(view))
        if firm_class is None:
            firm_class = _FIRM_FILTERSETS[type(view)] = _firm_filterset(filterset_class)
        return firm_class

    def parameter_names(self, view) -> frozenset[str]:
        """The query parameters the view's filter set reads: a filter's own name, or each name its widget
        spreads over (a range's ``_after`` / ``_before``)."""
        filterset_class = self.get_filterset_class(view, view.model._base_manager.none())
        if filterset_class is None:
            return frozenset()
        names = set()
        for name, field in filterset_class.base_filters.items():
            # The field's class, not ``field.field``: building the field on the class would cache it, with
            # its choices, for every later request.
            suffixes = getattr(field.field_class.widget, "suffixes", None) or [""]
            names.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
        return frozenset(names)


def _firm_staff(request):
    # Everyone who is or was a member of the request's firm: a partner may filter by a former designer.
    return get_user_model().objects.filter(memberships__tenant=require_current_tenant())


def _firm_filterset(filterset_class):
    """The filter set with every filter over users narrowed to the firm's staff: an id of another firm's
    user is "not one of the choices", exactly like an id that does not exist — a filter cannot be used to
    find out which user ids exist elsewhere. Times are held to the offsets clocks use (see
    ``_clock_offsets``)."""
    user_model = get_user_model()
    firm_class = type(filterset_class.__name__, (filterset_class,), {})
    firm_class.base_filters = dict(filterset_class.base_filters)  # its own, the view's class stays as declared
    for name, declared in filterset_class.base_filters.items():
        if isinstance(declared, ModelChoiceFilter) and getattr(declared.queryset, "model", None) is user_model:
            firm_class.base_filters[name] = type(declared)(
                field_name=declared.field_name,
                lookup_expr=declared.lookup_expr,
                queryset=_firm_staff,
                label=declared.label,
                **{key: value for key, value in declared.extra.items() if key != "queryset"},
            )
        elif issubclass(declared.field_class, forms.DateTimeField):
            bounded = copy.deepcopy(declared)
            bounded.field_class = _clock_offsets(declared.field_class)
            firm_class.base_filters[name] = bounded
    return firm_class


@cache
def _clock_offsets(field_class):
    """``field_class`` refusing a time whose UTC offset no clock uses, as the parameter's own error (the
    check of the pages' ``ClockDateTimeField``)."""

    def to_python(self, value):
        value = field_class.to_python(self, value)
        check_clock_offset(value)
        return value

    return type(f"ClockOffset{field_class.__name__}", (field_class,), {"to_python": to_python})


# View class -> its filter set with the staff filters narrowed to the firm (built once per view class).
_FIRM_FILTERSETS: dict[type, type] = {}


class FirmScopedMixin:
    """Owns ``get_queryset``: the model's firm-scoped manager, narrowed by ``scope_queryset``.

    Subclasses set ``model`` and ``permission_group`` and may override ``scope_queryset(queryset)`` to add
    ``select_related``, annotations or per-role narrowing. They may not override ``get_queryset``: one
    viewset that forgot the firm would be one too many. Another firm's id is simply not in the queryset,
    so it answers 404 exactly as a missing one does.
    """

    model = None
    permission_group: str | None = None
    filter_backends = [FirmFilterBackend]
    # Ids are digits that fit the key column: anything else ("9.5", a 30-digit number) is an unknown route.
    lookup_value_regex = "[0-9]{1,18}"
    # Query parameters an action reads itself, beyond a list's filters and page: {"compare": {"with"}}.
    action_query_parameters: dict[str, frozenset[str]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} overrides get_queryset; override scope_queryset instead.")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model._base_manager.none()  # schema generation runs outside any firm
        return self.scope_queryset(self.model.objects.all())

    def scope_queryset(self, queryset):
        return queryset

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.known_query_parameters())
        if unknown:
            # A partner's typo must not quietly answer every row.
            raise serializers.ValidationError(
                {name: [_("Unknown query parameter.")] for name in unknown}
                | {"non_field_errors": [_("Known parameters: %(names)s.") % {"names": self._known_names()}]}
            )

    def known_query_parameters(self) -> frozenset[str]:
        known = _KNOWN_PARAMETERS.get((type(self), self.action))
        if known is None:
            known = {api_settings.URL_FORMAT_OVERRIDE} | set(self.action_query_parameters.get(self.action, ()))
            if self.action == "list":
                paginator = self.paginator
                if paginator is not None:
                    known |= paginator.query_parameters()
                for backend in self.filter_backends:
                    if hasattr(backend, "parameter_names"):
                        known |= backend().parameter_names(self)
            known = _KNOWN_PARAMETERS[(type(self), self.action)] = frozenset(known)
        return known

    def _known_names(self) -> str:
        return ", ".join(sorted(name for name in self.known_query_parameters() if name)) or "-"


# (view class, action) -> the query parameters it reads; the same for every request.
_KNOWN_PARAMETERS: dict[tuple[type, str | None], frozenset[str]] = {}


class FirmModelViewSet(FirmScopedMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class FirmReadOnlyViewSet(FirmScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class FirmListCreateRetrieveViewSet(
    FirmScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    pass


class FirmRelatedField(PrimaryKeyRelatedField):
    """A reference to another firm-owned row, resolved in the current firm only: another firm's id is
    "does not exist" (400), never a link across firms."""

    def __init__(self, model=None, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.all()


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


def call_service(service, **kwargs):
    """Run a service from a view, turning its django ValidationError into the API's 400 with field errors —
    or 409 Conflict when every error is a ``duplicate`` (the record exists already, possibly created by a
    concurrent request a moment ago)."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
        if _codes(error) == {"duplicate"}:
            raise Conflict(detail) from error
        raise serializers.ValidationError(detail) from error


def _codes(error: DjangoValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {item.code for items in error.error_dict.values() for item in items}
    return {item.code for item in error.error_list}


def validated_data(serializer_class, request) -> dict:
    """An action's input, checked by its serializer: 400 with field errors when it does not validate."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def service_response(view, service, *, input=None, output=None, reload=False, many=False, status=200, **arguments):
    """The body of every POST action: the request checked by the ``input`` serializer and passed to
    ``service`` with ``arguments``; a refusal answers 400 (or 409, see ``call_service``). The answer is the
    service's result in the ``output`` serializer (the view's unless named), a list of rows with ``many``.
    With ``reload``, the answer is instead the action's row (or, for a create, the row made) read again
    through the view's queryset, with the related rows and annotations it adds; ``reload`` may also be a
    queryset to read the row the service made again through."""
    data = validated_data(input, view.request) if input is not None else {}
    result = call_service(service, **arguments, **data)
    if isinstance(reload, QuerySet):
        result = reload.get(pk=result.pk)
    elif reload:
        pk = view.kwargs[view.lookup_url_kwarg or view.lookup_field] if view.detail else result.pk
        result = view.get_queryset().get(pk=pk)
    serializer = (output or view.get_serializer_class())(result, many=many, context=view.get_serializer_context())
    return Response(serializer.data, status=status)


class StrictBooleanField(serializers.BooleanField):
    """A yes/no that must be given, in JSON and in a form body alike. DRF reads a form field that is absent
    as an unticked checkbox (False), so an empty POST would quietly switch a flag off."""

    default_empty_html = empty


def acting_user(request):
    """The signed-in user for a service's ``by``; None for a partner's API key."""
    return request.user if getattr(request.user, "pk", None) else None


class ReadPlanMixin:
    """For a ModelSerializer that answers long lists: ``to_representation`` with each readable field's way
    to its value worked out once per serializer (the list's child serves every row), instead of DRF's
    per-row walk over the fields (a generator, a getattr chain with callable checks, and a placeholder
    object for every related id). The values and their representation are exactly DRF's: plain model
    columns are read directly, related ids straight from their column; anything else goes DRF's way."""

    def to_representation(self, instance):
        plan = self.__dict__.get("_read_plan")
        if plan is None:
            plan = self._read_plan = [_read_step(self.Meta.model, field) for field in self._readable_fields]
        data = {}
        for name, get, represent, field in plan:
            if get is None:  # DRF's own way
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                check = value.pk if isinstance(value, PKOnlyObject) else value
                data[name] = None if check is None else represent(value)
                continue
            value = get(instance)
            data[name] = None if value is None else represent(value)
        return data


def _identity(value):
    return value


def _read_step(model, field):
    columns = {column.name: column for column in model._meta.concrete_fields}
    attrs = field.source_attrs
    if isinstance(field, serializers.SerializerMethodField):
        return field.field_name, _identity, field.to_representation, field
    if len(attrs) == 1 and attrs[0] in columns:
        column = columns[attrs[0]]
        if column.is_relation:
            if (
                isinstance(field, PrimaryKeyRelatedField)
                and type(field).to_representation is PrimaryKeyRelatedField.to_representation
                and field.pk_field is None
                and field.use_pk_only_optimization()
            ):
                return field.field_name, operator.attrgetter(column.attname), _identity, field
        elif not isinstance(field, serializers.RelatedField):
            return field.field_name, operator.attrgetter(column.attname), field.to_representation, field
    return field.field_name, None, field.to_representation, field
