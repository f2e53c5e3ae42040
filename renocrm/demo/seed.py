"""Seeding the demo firm. Each lifecycle stage has its own seeding function in SEEDERS; they run in order
inside the demo firm's context."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from aftercare.services import repairs as aftercare
from callbacks.models import Callback, CallbackAttempt
from callbacks.services import actions as callback_actions
from callbacks.services import release as callback_release
from callbacks.services import surveys as callback_surveys
from complaints.services import intake as complaints
from contracts.demo_library import seed_price_library
from contracts.models import Contract
from contracts.services import quotations, signing
from leads.services import pipeline as leads
from renocrm.accounts.models import Membership, User
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from renocrm.tenancy.time import firm_today
from worksites.models import Gate, Handover, HandoverDocument, Inspection, Worksite
from worksites.services import gates, inspections, portal, progress
from worksites.services import handover as handovers
from worksites.services import schedule as worksites

from .users import DEMO_PASSWORD, DEMO_SLUG, DEMO_USERS


def _home(compound, building_unit_room, *, area, layout, district="西湖区", street="", condition="new"):
    """A demo customer's home in Hangzhou; its worksite is named "翠湖花园 3-1-602 · 王芳"."""
    return {
        "province": "浙江省",
        "city": "杭州市",
        "district": district,
        "street": street,
        "compound": compound,
        "building_unit_room": building_unit_room,
        "area": Decimal(area),
        "layout": layout,
        "condition": condition,
    }


def seed_leads_and_contracts(tenant, users) -> None:
    """A few customers at every stage from new lead to signed contract."""
    today = firm_today()
    sales, designer = users["sales"], users["designer"]
    common = {"assigned_to": sales, "designer": designer}

    def lead(name, mobile, channel="online", **extra):
        created, _ = leads.lead_create(channel=channel, name=name, mobile=mobile, **{**common, **extra})
        return created

    lead(
        "陈晓",
        "13811110001",
        household="夫妻 + 1 孩",
        style_preferences="现代简约",
        budget_min=Decimal("150000"),
        budget_max=Decimal("200000"),
        next_follow_up_on=today,
    )
    contacted = lead("林静", "13811110002", channel="phone", core_needs="老房翻新，卫生间漏水")
    leads.follow_up_record(
        lead=contacted, kind="call", outcome="约了周六量房", next_contact_on=today - timedelta(days=1), by=sales
    )
    measured = lead(
        "黄磊",
        "13811110003",
        channel="showroom",
        style_preferences="新中式",
        new_property=_home("西溪诚园", "12-2-1101", area="128.00", layout="4室2厅", district="余杭区"),
    )
    leads.lead_change_status(lead=measured, status="measured", by=sales)
    lost = lead("吴昊", "13811110005", channel="event")
    leads.lead_change_status(lead=lost, status="lost", reason="预算不足，选择了其他公司", by=sales)

    items = [
        {"category": "demolition", "name": "拆除旧墙面砖", "unit": "m²", "quantity": "42", "unit_price": "35"},
        {
            "category": "plumbing_electrical",
            "name": "全屋水电改造",
            "unit": "m²",
            "quantity": "98",
            "unit_price": "120",
        },
        {"category": "masonry", "name": "地砖铺贴", "unit": "m²", "quantity": "65", "unit_price": "70"},
        {"category": "carpentry", "name": "吊顶", "unit": "m²", "quantity": "30", "unit_price": "160"},
        {"category": "painting", "name": "墙面乳胶漆", "unit": "m²", "quantity": "260", "unit_price": "28"},
    ]
    proposal = lead("赵敏", "13811110004", channel="online")
    leads.lead_change_status(lead=proposal, status="proposal", by=sales)
    quotation = quotations.quotation_create(lead=proposal, title="赵敏 · 三室两厅全包报价", items=items, by=designer)
    quotations.quotation_version_send(version=quotation.versions.get())

    referrer = contacted.customer
    won = lead(
        "周婷",
        "13811110006",
        channel="referral",
        referrer=referrer,
        style_preferences="北欧",
        new_property=_home("翠湖花园", "5-2-1802", area="112.00", layout="3室2厅", street="文三路188号"),
    )
    quotation = quotations.quotation_create(lead=won, title="周婷 · 全屋整装报价", items=items, by=designer)
    version = quotations.quotation_version_send(version=quotation.versions.get())
    quotations.quotation_version_accept(version=version, via="staff", by=designer, name="周婷")
    signing.contract_sign(
        version=version,
        number=f"HT-{today:%Y}-0001",
        package_type="whole_house",
        planned_start=today + timedelta(days=7),
        planned_end=today + timedelta(days=97),
        signed_on=today,
        by=sales,
    )


def seed_worksites(tenant, users) -> None:
    """The signed demo contract's worksite under way: crew assigned, the briefing held, demolition started.
    Its tiling, carpentry and painting wait at the concealed-works gate (the inspection is scheduled)."""
    contract = Contract.objects.select_related("project__lead").get()
    worksite = worksites.worksite_open(contract=contract)
    worksites.worksite_assign_crew(
        worksite=worksite, designer=users["designer"], project_manager=users["pm"], qc_inspector=users["qc"]
    )
    first, second = list(worksite.phases.all()[:2])
    today = firm_today()
    worksites.technical_handover_record(
        worksite=worksite,
        held_on=today,
        existing_facilities="原有墙面基本平整；厨房水管老化需更换；入户门完好。",
        drawings_given=True,
        quotation_given=True,
        by=users["pm"],
    )
    worksites.phase_complete(phase=first, on=today)
    worksites.phase_accept(phase=first, name="周婷", on=today)
    worksites.phase_start(phase=second, on=today)


def _demo_photo(name: str, colour: str):
    image = Image.new("RGB", (960, 720), colour)
    draw = ImageDraw.Draw(image)
    for x in range(0, 960, 80):  # a tiled wall, roughly
        draw.line([(x, 0), (x, 720)], fill="white", width=3)
    for y in range(0, 720, 80):
        draw.line([(0, y), (960, y)], fill="white", width=3)
    out = BytesIO()
    image.save(out, format="JPEG", quality=85)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def seed_site_activity(tenant, users) -> None:
    """What a homeowner and the office see on a site under way: progress with photos, a concealed-works
    inspection waiting for signatures, tiles delivered for acceptance, a problem with two solutions, and
    a portal link for the homeowner."""
    worksite = Worksite.objects.get()
    demolition = worksite.phases.get(kind="demolition")
    today = firm_today()
    progress.progress_post(
        worksite=worksite,
        note="拆除完成，垃圾已清运；明天开始水电开槽。",
        files=[_demo_photo("demolition.jpg", "#8a7f72")],
        posted_by=users["pm"],
        phase=demolition,
    )
    inspections.inspection_schedule(
        worksite=worksite, kind=Inspection.Kind.CONCEALED_WORKS, created_by=users["pm"], scheduled_on=today
    )
    inspections.material_arrival_record(
        worksite=worksite,
        material="客厅地砖 800×800",
        brand_model="马可波罗 CH8853",
        quantity=Decimal("46"),
        unit="㎡",
        arrived_on=today,
        recorded_by=users["pm"],
    )
    inspections.site_problem_raise(
        worksite=worksite,
        title="主卧衣柜位置有承重柱",
        raised_by=users["designer"],
        solutions=[
            {"description": "衣柜绕柱定制，柱子包进柜体", "cost_change": Decimal("1200"), "extra_days": 2},
            {"description": "衣柜缩短 40 cm，柱旁做开放格", "cost_change": Decimal("0"), "extra_days": 0},
        ],
    )
    portal.portal_link_create(worksite=worksite, created_by=users["designer"], days=30, sent_to="")


def _handed_over_project(users, *, today):
    """A project finished seven months ago: signed, built, accepted item by item and handed over."""
    handed_over_on = today - timedelta(days=212)
    signed_on = handed_over_on - timedelta(days=100)
    lead, _ = leads.lead_create(
        channel="showroom",
        name="王芳",
        mobile="13811110007",
        assigned_to=users["sales"],
        designer=users["designer"],
        style_preferences="日式原木",
        new_property=_home("翠湖花园", "3-1-602", area="86.00", layout="2室1厅", street="文三路188号", condition="old"),
    )
    items = [
        {
            "category": "plumbing_electrical",
            "name": "全屋水电改造",
            "unit": "m²",
            "quantity": "86",
            "unit_price": "120",
        },
        {
            "category": "waterproofing",
            "name": "卫生间防水（闭水 48 小时）",
            "unit": "m²",
            "quantity": "18",
            "unit_price": "85",
        },
        {"category": "waterproofing", "name": "厨房防水", "unit": "m²", "quantity": "9", "unit_price": "85"},
        {"category": "masonry", "name": "墙地砖铺贴", "unit": "m²", "quantity": "72", "unit_price": "70"},
        {"category": "carpentry", "name": "定制衣柜", "unit": "m²", "quantity": "12", "unit_price": "680"},
        {"category": "painting", "name": "墙面乳胶漆", "unit": "m²", "quantity": "230", "unit_price": "28"},
    ]
    quotation = quotations.quotation_create(lead=lead, title="王芳 · 两室一厅全包", items=items, by=users["designer"])
    version = quotations.quotation_version_send(version=quotation.versions.get())
    quotations.quotation_version_accept(version=version, via="staff", by=users["designer"], name="王芳")
    contract = signing.contract_sign(
        version=version,
        number=f"HT-{signed_on:%Y}-0002",
        package_type="full",
        planned_start=signed_on + timedelta(days=7),
        planned_end=handed_over_on,
        signed_on=signed_on,
        by=users["sales"],
    )
    worksite = worksites.worksite_open(contract=contract)
    worksites.worksite_assign_crew(
        worksite=worksite,
        designer=users["designer"],
        project_manager=users["pm"],
        qc_inspector=users["qc"],
        customer_service=users["service"],
    )
    handover = handovers.handover_start(worksite=worksite, started_by=users["qc"])
    for item in handover.items.all():
        handovers.acceptance_item_check(item=item, passed=True, checked_by=users["qc"])
    for kind in HandoverDocument.REQUIRED_KINDS:
        handovers.handover_document_add(
            handover=handover, kind=kind, upload=_demo_photo(f"{kind}.jpg", "#d9d4c7"), uploaded_by=users["qc"]
        )
    # The acceptance began before the handover day, months ago. Its construction was recorded on paper, before
    # the firm kept sites here, so the general manager lifted the handover gate with that reason (and the
    # dashboard counts it).
    Handover.objects.filter(pk=handover.pk).update(started_at=timezone.now() - timedelta(days=215))
    gates.gate_override(
        worksite=worksite,
        gate=Gate.HANDOVER,
        reason="施工与竣工验收记录为纸质存档（启用系统前完工），已核对签字原件。",
        by=users["admin"],
    )
    handovers.handover_complete(handover=handover, completed_by=users["pm"], on=handed_over_on)
    return worksite


def seed_aftercare(tenant, users) -> None:
    """Aftercare of a project handed over seven months ago: its warranty card, the callbacks that fell due
    (one answered, one not reached yet), a repair under warranty and an open complaint."""
    worksite = _handed_over_project(users, today=firm_today())
    project = worksite.project
    callback_release.callbacks_release_due()
    first, second = Callback.objects.filter(project=project, status=Callback.Status.OPEN).order_by("due_on")[:2]
    callback_surveys.survey_submit(
        callback=first,
        via="staff",
        by=users["service"],
        overall=5,
        quality_plumbing_electrical=5,
        quality_carpentry=4,
        quality_masonry=5,
        quality_painting=4,
        expectation="met",
        designer_rating=5,
        project_manager_rating=4,
        customer_service_rating=5,
        suggestions="收尾保洁可以再细致一些。",
        nps=9,
        defects=[{"trade": "painting", "kind": "crack", "note": "次卧墙角一条细裂缝"}],
        demands=["soft_furnishing"],
        demand_note="想配客厅窗帘",
    )
    callback_actions.callback_attempt_record(
        callback=second, outcome=CallbackAttempt.Outcome.NO_ANSWER, by=users["service"]
    )
    aftercare.repair_request_open(
        project=project,
        area="bathroom",
        trade="waterproofing",
        description="卫生间地漏附近墙角返潮，楼下邻居反映天花有水印。",
        source="staff",
        created_by=users["service"],
    )
    complaints.complaint_open(
        customer=project.customer,
        project=project,
        channel="phone",
        category="schedule",
        description="报修后两天没人联系，要求尽快上门。",
        severity="high",
        responsible=users["pm"],
        opened_by=users["service"],
    )


def seed_library(tenant, users) -> None:
    """The item library and packages, first: quotations are priced from them."""
    seed_price_library()


# Callables taking (tenant, users_by_username), run in order inside the demo firm.
SEEDERS: list = [seed_library, seed_leads_and_contracts, seed_worksites, seed_site_activity, seed_aftercare]


@transaction.atomic
def demo_seed() -> Tenant | None:
    """Seed the demo firm unless the database already has a firm. Returns the new firm, or None."""
    if Tenant.objects.exists():
        return None
    tenant = Tenant.objects.create(name="示范装饰工程有限公司", slug=DEMO_SLUG, phone="400-820-8820")
    users = {}
    for username, name, role in DEMO_USERS:
        user = User.objects.create_user(
            username=username, password=DEMO_PASSWORD, name=name, email=f"{username}@demo.renocrm.local"
        )
        Membership.objects.create(user=user, tenant=tenant, roles=[role])
        users[username] = user
    with tenant_context(tenant):
        for seed in SEEDERS:
            seed(tenant, users)
    return tenant
