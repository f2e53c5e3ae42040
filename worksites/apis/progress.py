from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from renocrm.api.fields import FirmIdField
from renocrm.api.views import FirmListCreateRetrieveViewSet, StrictBooleanField, acting_user, service_response
from renocrm.media import media_url
from renocrm.privacy.serializers import MaskedContactsMixin
from worksites.models import Phase, PhaseKind, ProgressMedia, ProgressUpdate, Worksite
from worksites.services import progress as services
from worksites.services.media import MAX_FILES


class ProgressMediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Signed link to the file; it stops working after a few hours.")
    thumbnail_url = serializers.SerializerMethodField(
        help_text="Signed link to a 480-pixel JPEG of a photo; null for a video or while it is being made."
    )

    class Meta:
        model = ProgressMedia
        fields = [
            "id",
            "position",
            "kind",
            "content_type",
            "size",
            "width",
            "height",
            "original_name",
            "url",
            "thumbnail_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, media) -> str:
        return media_url(media.file)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_thumbnail_url(self, media):
        return media_url(media.thumbnail) or None


class ProgressUpdateSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)
    phase_kind = serializers.ChoiceField(
        choices=PhaseKind.choices, source="phase.kind", read_only=True, allow_null=True
    )
    media = ProgressMediaSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "worksite",
            "phase",
            "phase_kind",
            "note",
            "visible_to_homeowner",
            "posted_by",
            "posted_at",
            "media",
            "updated_at",
        ]
        read_only_fields = fields


class ProgressPostSerializer(serializers.Serializer):
    worksite = FirmIdField(model=Worksite)
    phase = FirmIdField(model=Phase, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    visible_to_homeowner = StrictBooleanField(required=False, default=True)
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        max_length=MAX_FILES,
        help_text=(
            f"Up to {MAX_FILES} photos (JPEG, PNG, WebP) or videos (MP4, MOV, WebM), one `files` part each. "
            "Photos are re-encoded upright without EXIF (no GPS position)."
        ),
    )


class ProgressVisibilitySerializer(serializers.Serializer):
    visible = StrictBooleanField(help_text="Whether the homeowner sees the update in the portal.")


class ProgressUpdateViewSet(FirmListCreateRetrieveViewSet):
    """Progress updates posted from the site, newest first, with their photos and videos as signed links."""

    model = ProgressUpdate
    permission_group = "worksites"
    serializer_class = ProgressUpdateSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = {"worksite": ["exact"], "phase": ["exact"], "posted_at": ["gte", "lte"]}

    def scope_queryset(self, queryset):
        return queryset.select_related("phase").prefetch_related("media")

    @extend_schema(
        request={"multipart/form-data": ProgressPostSerializer},
        responses={201: ProgressUpdateSerializer},
        description="Post an update with its files in one multipart request. One file that is not a photo or "
        "video, or is too large, refuses the whole post (400 on `files`, naming the file); nothing is stored.",
    )
    def create(self, request, *args, **kwargs):
        return service_response(
            self,
            services.progress_post,
            input=ProgressPostSerializer,
            reload=True,
            status=status.HTTP_201_CREATED,
            posted_by=acting_user(request),
        )

    @extend_schema(request=ProgressVisibilitySerializer, responses=ProgressUpdateSerializer)
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def visibility(self, request, pk=None):
        return service_response(
            self,
            services.progress_update_set_visibility,
            input=ProgressVisibilitySerializer,
            reload=True,
            update=self.get_object(),
        )
