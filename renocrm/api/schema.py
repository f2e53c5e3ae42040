"""The published OpenAPI document (``/api/schema/``), complete enough for a partner to generate a client from.

``PartnerAutoSchema`` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) adds to every operation what the platform does
for every request rather than what one view says: the error body and the statuses each operation can answer
with, the response headers, ``Idempotency-Key`` on POSTs, the scope a key needs, a summary, and a
description of each list filter. A view's docstring is for its maintainers and never becomes a description
(SPECTACULAR_SETTINGS["DISABLE_DOCSTRING_DESCRIPTIONS"]); what partners read is written in ``extend_schema``.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings

from .permissions import FirmPermission, MemberPermission
from .views import FirmScopedMixin


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "renocrm.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` — a per-firm key with scopes, created by the firm's admin.",
        }


# The body of every 4xx and 5xx (renocrm/api/errors.py).
FIELD_ERRORS = {
    "type": "object",
    "description": "What is wrong, by field: each key a field of the body or a query parameter (`non_field_errors`: "
    "the request as a whole), each value its messages. The fields of a nested object come nested, e.g. "
    '`{"new_property": {"compound": ["…"]}}`.',
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"$ref": "#/components/schemas/FieldErrors"},
        ]
    },
}
ERROR = {
    "type": "object",
    "description": "The body of every error answer of the API, whatever its status.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated.", "example": 400},
                "code": {
                    "type": "string",
                    "description": "What went wrong, for programs: `invalid`, `parse_error`, `not_authenticated`, "
                    "`authentication_failed`, `permission_denied`, `firm_suspended`, `not_found`, "
                    "`method_not_allowed`, `not_acceptable`, `unsupported_media_type`, `conflict`, "
                    "`idempotency_key_reused`, `throttled`, `server_error`, `service_unavailable`. "
                    "New codes may be added.",
                    "example": "invalid",
                },
                "message": {
                    "type": "string",
                    "description": "What went wrong, for people, in the answer's language (`Content-Language`).",
                    "example": "Some fields are not valid.",
                },
                "fields": {
                    "allOf": [{"$ref": "#/components/schemas/FieldErrors"}],
                    "description": "Present only when the error is about named fields (a 400 `invalid`, a 409 "
                    "`conflict`); left out, never empty, otherwise.",
                },
            },
            "required": ["status", "code", "message"],
        },
        "request_id": {
            "type": "string",
            "description": "The request's id, as in the `X-Request-ID` header: quote it when reporting a problem.",
            "example": "3f1c9a0e5b7d4c2a8e6f1b3d5a7c9e0f",
        },
    },
    "required": ["error", "request_id"],
    "example": {
        "error": {
            "status": 400,
            "code": "invalid",
            "message": "Some fields are not valid.",
            "fields": {"mobile": ["Enter a valid mainland-China mobile number."]},
        },
        "request_id": "3f1c9a0e5b7d4c2a8e6f1b3d5a7c9e0f",
    },
}

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid: `fields` names each field or query parameter that is wrong (an unknown query "
    "parameter included) and says why.",
    "401": "No credentials, another scheme than `Api-Key`, or a key that is malformed, unknown or revoked.",
    "403": "The key lacks the scope this needs (a signed-in member, the permission), or the firm is suspended "
    "(code `firm_suspended`).",
    "404": "No such record in the key's firm: another firm's id answers exactly like one that does not exist.",
    "422": "This `Idempotency-Key` was used before by the same key, at the same address, with another body "
    "(code `idempotency_key_reused`). Nothing was done.",
    "429": "Over the key's rate limit (code `throttled`): wait `Retry-After` seconds. Refused requests are not "
    "counted.",
}

# Response headers, as components.headers.
HEADERS = {
    "X-Request-ID": {
        "description": "The request's id: the `X-Request-ID` the request sent, if it is 1 to 64 letters, digits, "
        "`.`, `_` or `-`, else a new one. Every answer carries it.",
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {
        "description": "The key's requests per window. On every answer to a request made with an API key.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Remaining": {
        "description": "The requests left in the window now. On every answer to a request made with an API key.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the oldest request counted leaves the window (one more is then allowed). On "
        "every answer to a request made with an API key.",
        "schema": {"type": "integer"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key` "
        "(nothing was done again); absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "WWW-Authenticate": {
        "description": "The scheme to authenticate with: `Api-Key`.",
        "schema": {"type": "string"},
    },
}
RATE_LIMIT = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Your id for this request (up to 255 characters), to retry it safely: a retry with the same key "
    "and the same body gets the first answer again (with `Idempotent-Replayed: true`) and does nothing twice; the "
    "same key with another body is refused with 422. A key belongs to one API key (or signed-in user) and one "
    "address: the same key sent to another endpoint is a new request there. A JSON body is compared as the data "
    "it holds (the order of an object's keys and whitespace do not matter; the order of a list does). An answer "
    "that was refused (4xx) or failed (5xx) is not kept, so its retry is checked afresh. Keys are kept at least "
    "24 hours.",
    "schema": {"type": "string", "maxLength": 255},
}

# Nouns the models' verbose names do not give well, by the URL's first segment.
NOUNS = {
    "staff": ("staff member", "staff members"),
    "follow-ups": ("follow-up", "follow-ups"),
    "webhook-deliveries": ("webhook delivery", "webhook deliveries"),
    "receivables": ("receivable", "receivables"),
}

# Summaries of the custom actions whose name is not a verb to put before the noun; the others read
# "<Action> a <noun>" ("Approve a change order").
ACTION_SUMMARIES = {
    "change_status": "Change the status of {a}",
    "record_payment": "Record the payment of {a}",
    "pdf": "Download {a} as PDF",
    "export": "Export the data held about {a}",
    "survey": "Submit the survey of {a}",
    "attempt": "Log a call attempt on {a}",
    "send_sms": "Text the survey link of {a}",
    "visit": "Add a visit to {a}",
    "note": "Add a note to {a}",
    "report": "Report the result of {a} to the customer",
    "respond": "Respond to {a}",
    "verdict": "Record the customer's verdict on {a}",
    "media": "Add photos or videos to {a}",
    "documents": "Upload a document of {a}",
    "fixed": "Mark {a} as fixed",
    "roles": "Set the roles of {a}",
    "open_work": "List the open work held by {a}",
    "password_reset": "Send {a} a password reset link",
    "visibility": "Show or hide {a} in the homeowner's portal",
    "totals": "Sum the {plural} by bucket",
    "read": "Mark {a} as read",
    "read_all": "Mark all {plural} as read",
    "import_items": "Import {plural} from an XLSX file",
    "replace": "Replace all {plural}",
    "result": "Record the result of {a}",
    "circuit_diagram": "Upload the circuit diagram of {a}",
    "choose": "Choose the solution of {a}",
    "check": "Record the check of {a}",
    "set_items": "Set the lines of {a}",
    "set_fees": "Set the fees of {a}",
    "copy_lines": "Copy lines into {a}",
    "fill_from_package": "Fill {a} from a package",
    "send_to_customer": "Send {a} to the homeowner",
    "approve_discount": "Approve the discount of {a}",
    "assign_crew": "Assign the crew of {a}",
    "rotate_secret": "Rotate the signing secret of {a}",
    "compare": "Compare {a} with another",
    "copy": "Copy {a} into a new draft",
    "triage": "Triage {a}",
}
CRUD_SUMMARIES = {
    "list": "List {plural}",
    "create": "Create {a}",
    "retrieve": "Retrieve {a}",
    "update": "Replace {a}",
    "partial_update": "Update {a}",
    "destroy": "Delete {a}",
}
METHOD_SUMMARIES = {"GET": "Retrieve the {plural}", "POST": "Send {plural}", "PATCH": "Update the {plural}"}

# What a filter's lookup means, for the generated description of a filter declared without one.
LOOKUP_TEXT = {
    "gte": "on or after",
    "gt": "after",
    "lte": "on or before",
    "lt": "before",
}


class PartnerAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        access = self._access()
        if access:
            operation["description"] = "\n\n".join(filter(None, [operation.get("description"), access]))
        self._describe_parameters(operation)
        if self.method == "POST":
            operation.setdefault("parameters", []).append(self._component("parameters", "IdempotencyKey"))
        self._add_errors(operation)
        self._add_headers(operation)
        return operation

    def get_operation_id(self):
        # The ids clients were generated with ("v1_leads_list") stay as they were before the path prefix gave
        # each resource its own tag: renaming them would rename every method of a generated client.
        return f"v1_{super().get_operation_id()}"

    # Tags, summaries and descriptions ---------------------------------------------------------------------

    def get_description(self):
        return ""  # never the view's docstring: a description is written for partners with extend_schema

    def get_summary(self):
        action = getattr(self.view, "action", None)
        singular, plural = self._nouns()
        words = {"a": f"{'an' if singular[:1].lower() in 'aeiou' else 'a'} {singular}", "plural": plural}
        if action is None:
            template = METHOD_SUMMARIES.get(self.method, "{plural}")
        else:
            template = CRUD_SUMMARIES.get(action) or ACTION_SUMMARIES.get(action)
            if template is None:
                template = action.replace("_", " ").capitalize() + (" {a}" if self.view.detail else " {plural}")
        return template.format(**words)

    def _nouns(self) -> tuple[str, str]:
        segment = next(iter(self.get_tags()), "")  # the resource: the path's first segment after /api/v1/
        if segment in NOUNS:
            return NOUNS[segment]
        model = getattr(self.view, "model", None) or getattr(getattr(self.view, "queryset", None), "model", None)
        if model is None:
            return segment.replace("-", " "), segment.replace("-", " ")
        with translation.override("en"):  # summaries are English, like the descriptions written for partners
            return str(model._meta.verbose_name), str(model._meta.verbose_name_plural)

    def _access(self) -> str:
        """The scope a key needs, when the view's permissions say it plainly."""
        permissions = self.view.get_permissions()
        group = getattr(self.view, "permission_group", None)
        if group and permissions and all(isinstance(p, FirmPermission) for p in permissions):
            return f"Needs the `{group}:{'read' if self.method in SAFE_METHODS else 'write'}` scope."
        if permissions and all(isinstance(p, MemberPermission) for p in permissions):
            return "For a signed-in staff member only: an API key is refused with 403, whatever its scopes."
        return ""

    # Bodies and parameters --------------------------------------------------------------------------------

    def map_parsers(self):
        # One body type an operation, so that a generated client knows what to send: multipart/form-data where the
        # body carries files, else JSON. The other types a view's parsers take are still taken.
        media_types = super().map_parsers()
        wanted = "multipart/form-data" if self._takes_files() else "application/json"
        return [wanted] if wanted in media_types else media_types

    def _takes_files(self) -> bool:
        serializer = force_instance(self.get_request_serializer())
        fields = getattr(serializer, "fields", {}).values()
        return any(
            isinstance(field, serializers.FileField) or isinstance(getattr(field, "child", None), serializers.FileField)
            for field in fields
        )

    def get_filter_backends(self):
        # Only a list reads its filters: a detail action or a POST refuses them as unknown parameters (400).
        if getattr(self.view, "action", "list") != "list":
            return []
        return super().get_filter_backends()

    def _get_paginator(self):
        # Only a list is paged: an action answering several rows (a staff member's open work) is not.
        if getattr(self.view, "action", "list") != "list":
            return None
        return super()._get_paginator()

    def _describe_parameters(self, operation):
        filters = self._filters()
        paginator = self._get_paginator()
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query":
                continue
            name, description = parameter["name"], parameter.get("description") or ""
            if paginator is not None and name == getattr(paginator, "page_size_query_param", None):
                largest, default = paginator.max_page_size, paginator.page_size
                description = f"Rows per page: a whole number from 1 to {largest} (default {default})."
            elif paginator is not None and name == getattr(paginator, "cursor_query_param", None):
                description = "The page to read, as given in the `next` or `previous` link of the page before."
            elif name == api_settings.URL_FORMAT_OVERRIDE:
                description = "The answer's format, instead of the `Accept` header; usually left out."
            elif name in filters and (not description or description.startswith("* `")):
                # Declared without a description drf-spectacular could read: say what it does, before its list
                # of the choices.
                declared = filters[name]
                text = declared.extra.get("help_text") or declared.label or self._filter_text(declared)
                description = "\n\n".join(filter(None, [str(text), description]))
            parameter["description"] = description

    def _filters(self) -> dict:
        for backend in self.get_filter_backends():
            get_class = getattr(backend(), "get_filterset_class", None)
            model = getattr(self.view, "model", None)
            if get_class is not None and model is not None:
                filterset_class = get_class(self.view, model._base_manager.none())
                if filterset_class is not None:
                    return dict(filterset_class.base_filters)
        return {}

    def _filter_text(self, declared) -> str:
        """A filter's meaning from its model field and lookup: "Only leads of this customer (its id)."."""
        _, plural = self._nouns()
        field = _model_field(self.view.model, declared.field_name)
        if field is None:
            return ""
        name = f"`{field.name}`"
        lookup = declared.lookup_expr.split("__")
        if lookup[-1] == "isnull":
            return f"`true`: only {plural} whose {name} is empty; `false`: only those where it is set."
        if lookup[-1] in LOOKUP_TEXT:
            if "date" in lookup:
                unit = "day (YYYY-MM-DD, firm-local)"
            elif isinstance(field, models.DateTimeField):
                unit = "time (ISO 8601, with its offset)"
            else:
                unit = "date (YYYY-MM-DD)"
            return f"Only {plural} whose {name} is {LOOKUP_TEXT[lookup[-1]]} this {unit}."
        if field.is_relation:
            with translation.override("en"):
                related = str(field.related_model._meta.verbose_name)
            if field.name == field.related_model._meta.model_name:
                return f"Only {plural} of this {related} (its id)."
            return f"Only {plural} whose {name} is this {related} (its id)."
        if isinstance(field, models.BooleanField):
            return f"`true` or `false`: only {plural} whose {name} is that."
        if field.choices:
            return f"Only {plural} with this {name}."
        return f"Only {plural} whose {name} is exactly this."

    # Errors and headers -----------------------------------------------------------------------------------

    def _component(self, kind: str, name: str) -> dict:
        schema = {
            "schemas": {"Error": ERROR, "FieldErrors": FIELD_ERRORS},
            "headers": HEADERS,
            "parameters": {"IdempotencyKey": IDEMPOTENCY_KEY},
        }[kind][name]
        component = ResolvedComponent(name=name, type=kind, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return component.ref

    def _add_errors(self, operation):
        parameters = operation.get("parameters", [])
        codes = ["401", "403", "429"]
        if any(parameter.get("in") == "path" for parameter in parameters):
            codes.append("404")
        if (
            operation.get("requestBody")
            or any(parameter.get("in") == "query" for parameter in parameters)
            or isinstance(self.view, FirmScopedMixin)  # refuses an unknown query parameter
        ):
            codes.append("400")
        if self.method == "POST":
            codes.append("422")
        self._component("schemas", "FieldErrors")  # what Error's `fields` refers to
        error = {"application/json": {"schema": self._component("schemas", "Error")}}
        responses = operation["responses"]
        for code in codes:
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:  # a view documents its own 409 by its description
                response["content"] = error
        operation["responses"] = dict(sorted(responses.items()))

    def _add_headers(self, operation):
        for code, response in operation["responses"].items():
            # A 401 knew no key, so counted no rate.
            names = ["X-Request-ID", "WWW-Authenticate"] if code == "401" else ["X-Request-ID", *RATE_LIMIT]
            if code == "429":
                names.append("Retry-After")
            if self.method == "POST" and code.startswith("2"):
                names.append("Idempotent-Replayed")
            headers = response.setdefault("headers", {})
            for name in names:
                headers.setdefault(name, self._component("headers", name))


def _model_field(model, path: str):
    """The model field a filter's ``field_name`` (``project__customer``) ends on; None when it is no field."""
    field = None
    for part in path.split("__"):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:  # a filter over an annotation
            return None
        model = field.related_model
    return field
