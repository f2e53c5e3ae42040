"""The API's PDFs of quotation versions and contracts, and sending a version to the customer.

``GET /api/v1/quotation-versions/<id>/pdf/`` and ``GET /api/v1/contracts/<id>/pdf/`` answer the frozen signed
copy when there is one (``X-Signed-Copy-SHA256`` names its hash), else the document as it stands, marked as not
signed. A principal without contacts:read gets the document as it stands with the homeowner's contact details
masked, never the signed copy (which holds them). ``POST /api/v1/quotation-versions/<id>/send-to-customer/``
sends the homeowner's link."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer

from renocrm.api.views import FirmScopedMixin, acting_user, service_response
from renocrm.privacy.masking import may_see_contacts

from . import documents
from .document_views import pdf_response
from .models import Contract, DocumentDelivery, QuotationVersion
from .services import delivery


class PdfRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the view answers with the bytes itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class PdfUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "PDFs cannot be made on this server now: no Chinese font is installed."
    default_code = "pdf_unavailable"


PDF_RESPONSES = {
    (200, "application/pdf"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The PDF: the signed copy when there is one (its SHA-256 in the X-Signed-Copy-SHA256 header), "
        "else the document now, marked as not signed. Without contacts:read, always the document now, with the "
        "address masked and without the signature and IP address.",
    )
}


def _pdf(request, **document):
    try:
        data, copy = documents.pdf_for(**document, contacts=may_see_contacts(request))
    except documents.PdfUnavailable as error:
        raise PdfUnavailable() from error
    response = pdf_response(data, documents.download_name(**document, signed=copy is not None))
    if copy is not None:
        response["X-Signed-Copy-SHA256"] = copy.sha256
    return response


PDF_DESCRIPTION = (
    "Needs contracts:read. The signed copy holds the homeowner's address, signature and IP address: a key "
    "without contacts:read gets the document now with those masked instead."
)


class SendToCustomerSerializer(serializers.Serializer):
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=DocumentDelivery.Channel.choices), allow_empty=False
    )
    mobile = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="For SMS; the customer's own mobile if left out."
    )
    email = serializers.EmailField(required=False, allow_blank=True, help_text="For e-mail (the PDF is attached).")


class DeliverySerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="notification.status", read_only=True)

    class Meta:
        model = DocumentDelivery
        fields = ["id", "quotation_version", "channel", "recipient", "status", "sent_by", "created_at"]
        read_only_fields = fields


class QuotationVersionDocumentViewSet(FirmScopedMixin, viewsets.GenericViewSet):
    model = QuotationVersion
    permission_group = "contracts"

    @extend_schema(request=None, responses=PDF_RESPONSES, description=PDF_DESCRIPTION)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        return _pdf(request, version=self.get_object())

    @extend_schema(
        request=SendToCustomerSerializer,
        responses={200: DeliverySerializer(many=True)},
        description="Send the homeowner's link by SMS and/or e-mail (a draft is sent first, and freezes). One "
        "message per channel and recipient a day. Needs contracts:write.",
    )
    @action(detail=True, methods=["post"], url_path="send-to-customer", pagination_class=None)
    def send_to_customer(self, request, pk=None):
        return service_response(
            self,
            delivery.quotation_send_to_customer,
            input=SendToCustomerSerializer,
            output=DeliverySerializer,
            many=True,
            version=self.get_object(),
            by=acting_user(request),
            base_url=request.build_absolute_uri("/"),
        )


class ContractDocumentViewSet(FirmScopedMixin, viewsets.GenericViewSet):
    model = Contract
    permission_group = "contracts"

    @extend_schema(request=None, responses=PDF_RESPONSES, description=PDF_DESCRIPTION)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        return _pdf(request, contract=self.get_object())
