"""Factories. Firm-owned objects are created inside ``tenant_context(firm)`` and take the firm from it,
so related objects always belong to the same firm."""

import factory
from django.conf import settings
from django.utils import timezone

from renocrm.accounts.models import Membership, User
from renocrm.accounts.roles import SCOPES, Role
from renocrm.api.authentication import generate_key
from renocrm.api.models import ApiKey, Deletion, IdempotencyRecord, hash_key
from renocrm.audit.models import AuditEvent
from renocrm.tenancy.context import get_current_tenant, require_current_tenant
from renocrm.tenancy.models import Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Firm {n}")
    slug = factory.Sequence(lambda n: f"firm-{n}")
    phone = "400-800-1234"
    # Staff pages speak the firm's language: a test that sets LANGUAGE_CODE (the ``english`` fixtures) gets
    # firms, and so pages and messages, in that language; otherwise the default firm language, Chinese.
    language = factory.LazyFunction(lambda: settings.LANGUAGE_CODE)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pass-for-tests-1")


class StaffFactory(UserFactory):
    """A user who is an active member of the current firm (call inside tenant_context(firm)): whom a firm
    record's staff column may name. ``StaffFactory(membership__role=Role.DESIGNER)`` picks the role."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    @factory.post_generation
    def membership(user, create, extracted, **kwargs):
        if create:
            Membership.objects.get_or_create(
                user=user,
                tenant=require_current_tenant(),
                defaults={
                    "roles": kwargs.get("roles", [kwargs.get("role", Role.ADMIN)]),
                    "is_active": kwargs.get("is_active", True),
                },
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    class Params:
        # ``MembershipFactory(role=Role.SALES)``: one role; pass ``roles=[…]`` for several.
        role = Role.ADMIN

    user = factory.SubFactory(UserFactory)
    # Inside tenant_context(firm), a member of that firm; else of a new firm.
    tenant = factory.LazyFunction(lambda: get_current_tenant() or TenantFactory())
    roles = factory.LazyAttribute(lambda membership: [membership.role])


class DeletionFactory(factory.django.DjangoModelFactory):
    """A record gone from the leads list, as the deletions feed shows it."""

    class Meta:
        model = Deletion

    resource = "leads"
    object_id = 0

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The feed shows a deletion by the gone record's id; the generic route tests find rows by the "id" they
        # show, so a made-up deletion names itself unless told otherwise.
        obj = super()._create(model_class, *args, **kwargs)
        if not obj.object_id:
            obj.object_id = obj.pk
            obj.save(update_fields=["object_id"])
        return obj


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """Call inside tenant_context(firm). ``raw_key`` is set on the instance for the test to authenticate."""

    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"partner {n}")
    scopes = factory.LazyFunction(lambda: list(SCOPES))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        raw_key, prefix = generate_key()
        obj = model_class.objects.create(*args, prefix=prefix, hashed_key=hash_key(raw_key), **kwargs)
        obj.raw_key = raw_key
        return obj


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyRecord

    principal = "key:1"
    key = factory.Sequence(lambda n: f"key-{n}")
    request_hash = "0" * 64
    status_code = 201


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    at = factory.LazyFunction(timezone.now)
    action = AuditEvent.Action.UPDATE
    table_name = "api_apikey"
    row_id = "1"
    changes = factory.LazyFunction(lambda: {"name": ["old", "new"]})
