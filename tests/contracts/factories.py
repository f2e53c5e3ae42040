"""Contracts factories; create inside tenant_context(firm)."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from contracts import documents
from contracts.models import (
    ChangeOrder,
    ChangeOrderLine,
    Contract,
    ContractSettings,
    DesignAgreement,
    DocumentDelivery,
    Instalment,
    MainMaterialLine,
    MeasurementAppointment,
    PriceItem,
    PricePackage,
    PricePackageLine,
    Project,
    Quotation,
    QuotationItem,
    QuotationVersion,
    SignedDocument,
    TradeCategory,
)
from tests.leads.factories import LeadFactory
from tests.outbox.factories import NotificationFactory


class ContractSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractSettings


class PriceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceItem

    code = factory.Sequence(lambda n: f"QT-{n:04d}")
    name = factory.Sequence(lambda n: f"墙面乳胶漆 {n}")
    trade = TradeCategory.PAINTING
    unit = "m²"
    unit_price = Decimal("38.00")
    cost_price = Decimal("24.50")


class PricePackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricePackage

    name = factory.Sequence(lambda n: f"全包套餐 {n}")
    package_type = Contract.PackageType.FULL


class PricePackageLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricePackageLine

    package = factory.SubFactory(PricePackageFactory)
    price_item = factory.SubFactory(PriceItemFactory)
    basis = PricePackageLine.Basis.PER_AREA
    quantity = Decimal("2.800")


class DesignAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DesignAgreement

    lead = factory.SubFactory(LeadFactory)
    fee = Decimal("2000.00")
    signed_on = factory.LazyFunction(date.today)


class MeasurementAppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeasurementAppointment

    lead = factory.SubFactory(LeadFactory)
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))


class QuotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quotation

    lead = factory.SubFactory(LeadFactory)
    title = factory.Sequence(lambda n: f"Renovation quotation {n}")


class QuotationVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuotationVersion

    quotation = factory.SubFactory(QuotationFactory)
    number = factory.Sequence(lambda n: n + 1)


class QuotationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuotationItem

    version = factory.SubFactory(QuotationVersionFactory)
    category = TradeCategory.MASONRY
    name = "Floor tiles laying"
    unit = "m²"
    quantity = Decimal("80.00")
    unit_price = Decimal("65.00")
    amount = Decimal("5200.00")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    lead = factory.SubFactory(LeadFactory)
    customer = factory.SelfAttribute("lead.customer")
    name = factory.Sequence(lambda n: f"Project {n}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: f"HT-2026-{n:04d}")
    package_type = Contract.PackageType.FULL
    quotation_version = factory.SubFactory(
        QuotationVersionFactory, quotation__lead=factory.SelfAttribute("...project.lead"), status="accepted"
    )
    original_amount = Decimal("100000.00")
    amount = Decimal("100000.00")
    planned_start = factory.LazyFunction(date.today)
    planned_end = factory.LazyFunction(lambda: date.today() + timedelta(days=90))
    signed_on = factory.LazyFunction(date.today)


class MainMaterialLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MainMaterialLine

    contract = factory.SubFactory(ContractFactory)
    name = "Floor tiles"
    unit = "m²"
    quantity = Decimal("80.00")
    unit_price = Decimal("120.00")
    amount = Decimal("9600.00")


class InstalmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instalment

    contract = factory.SubFactory(ContractFactory)
    sequence = factory.Sequence(lambda n: n + 1)
    kind = Instalment.Kind.DEPOSIT
    amount = Decimal("30000.00")
    trigger = Instalment.Trigger.ON_SIGNING


class ChangeOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeOrder

    contract = factory.SubFactory(ContractFactory)
    number = factory.Sequence(lambda n: n + 1)
    reason = "Extra socket in the study"


class ChangeOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeOrderLine

    change_order = factory.SubFactory(ChangeOrderFactory)
    kind = ChangeOrderLine.Kind.ADDITION
    category = TradeCategory.PLUMBING_ELECTRICAL
    name = "Extra socket"
    unit = "pc"
    quantity = Decimal("2.00")
    unit_price = Decimal("80.00")
    amount = Decimal("160.00")


class SignedDocumentFactory(factory.django.DjangoModelFactory):
    """A frozen copy of an accepted version, not yet rendered (its download renders it)."""

    class Meta:
        model = SignedDocument

    kind = SignedDocument.Kind.QUOTATION
    quotation_version = factory.SubFactory(
        QuotationVersionFactory,
        status="accepted",
        accepted_at=factory.LazyFunction(timezone.now),
        accepted_via="staff",
        accepted_name="王芳",
    )
    signed_at = factory.SelfAttribute("quotation_version.accepted_at")
    content = factory.LazyAttribute(lambda o: documents.quotation_content(o.quotation_version))


class DocumentDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentDelivery

    quotation_version = factory.SubFactory(QuotationVersionFactory, status="sent")
    channel = DocumentDelivery.Channel.SMS
    recipient = "138****8000"
    notification = factory.SubFactory(NotificationFactory)
