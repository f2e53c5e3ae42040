"""The base every API view derives from: authentication, the firm's scope and permissions in one place."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers, viewsets
from rest_framework.relations import PrimaryKeyRelatedField
from rest_framework.response import Response


class FirmScopedMixin:
    """Owns ``get_queryset``: the model's firm-scoped manager, narrowed by ``scope_queryset``.

    Subclasses set ``model`` and ``permission_group`` and may override ``scope_queryset(queryset)`` to add
    ``select_related``, annotations or per-role narrowing. They may not override ``get_queryset``: one
    viewset that forgot the firm would be one too many. Another firm's id is simply not in the queryset,
    so it answers 404 exactly as a missing one does.
    """

    model = None
    permission_group: str | None = None

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


def call_service(service, **kwargs):
    """Run a service from a view, turning its django ValidationError into the API's 400 with field errors."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        raise serializers.ValidationError(
            error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
        ) from error


def validated_data(serializer_class, request) -> dict:
    """An action's input, checked by its serializer: 400 with field errors when it does not validate."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def service_response(view, service, *, input=None, output=None, reload=False, status=200, **arguments):
    """The body of a POST action: the request checked by the ``input`` serializer and passed to ``service``
    with ``arguments``; the answer is the service's result in the ``output`` serializer (the view's unless
    named). With ``reload``, the answer is instead the action's row (or, for a create, the row made) read
    again through the view's queryset, with the related rows and annotations it adds."""
    data = validated_data(input, view.request) if input is not None else {}
    result = call_service(service, **arguments, **data)
    if reload:
        pk = view.kwargs[view.lookup_url_kwarg or view.lookup_field] if view.detail else result.pk
        result = view.get_queryset().get(pk=pk)
    serializer = (output or view.get_serializer_class())(result, context=view.get_serializer_context())
    return Response(serializer.data, status=status)


def acting_user(request):
    """The signed-in user for a service's ``by``; None for a partner's API key."""
    return request.user if getattr(request.user, "pk", None) else None
