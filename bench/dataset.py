"""The bench dataset's rows for one firm, generated as plain tuples (no model instances).

``generate_firm(plan, take_ids)`` yields one ``Batch`` per table, parents before children, with the ids
already assigned (``take_ids(table, n)`` reserves a contiguous block of the table's sequence), so the
loader can stream each table straight into PostgreSQL. Values are strings in PostgreSQL's text input
format (dates ``YYYY-MM-DD``, timestamps with ``+08``), ``None`` for NULL. The states follow the models'
rules: a won lead has exactly one project, a project's contract signs its accepted quotation version,
phases follow the firm's template, a handed-over project has its coverages and its callback plan, a
passed inspection carries every sign-off its kind needs, complaints run the three-level clocks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

from renocrm.calendar import add_months, add_working_days

DAYS = 3 * 365  # the dataset spans three years up to the bench day

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红梅鑫波斌宇浩凯健俊"
    "帆帅旭宁琳晨欣佳怡子轩雨涵思远梓豪一诺浩然博文昊天雅婷晓东建国志强海燕春梅丹丹"
)
CITIES = (
    ("上海市", ("浦东新区", "闵行区", "徐汇区", "宝山区", "嘉定区", "松江区", "杨浦区", "普陀区")),
    ("杭州市", ("西湖区", "余杭区", "滨江区", "萧山区", "拱墅区", "上城区")),
    ("苏州市", ("工业园区", "吴中区", "相城区", "姑苏区", "虎丘区")),
    ("南京市", ("鼓楼区", "建邺区", "江宁区", "栖霞区", "浦口区")),
    ("成都市", ("武侯区", "高新区", "锦江区", "青羊区", "成华区", "双流区")),
    ("广州市", ("天河区", "海珠区", "番禺区", "白云区", "黄埔区")),
    ("深圳市", ("南山区", "福田区", "宝安区", "龙岗区", "龙华区")),
    ("武汉市", ("洪山区", "武昌区", "江汉区", "汉阳区", "东湖高新区")),
)
COMMUNITIES = (
    "锦绣花园",
    "阳光城",
    "翡翠湾",
    "世纪家园",
    "御景豪庭",
    "绿地香树",
    "万科城",
    "保利天悦",
    "金地自在城",
    "华润悦府",
    "龙湖春江郦城",
    "中海寰宇",
    "招商雍景湾",
    "碧桂园",
    "融创壹号院",
    "新城悦隽",
    "旭辉江山",
    "绿城桂语",
    "东方名苑",
    "滨江花园",
    "紫薇公寓",
    "和平新村",
    "幸福里",
    "书香门第",
    "枫林绿洲",
    "金色家园",
    "天鹅湖",
    "明珠花苑",
    "兰亭苑",
)
LAYOUTS = ("两室一厅", "两室两厅", "三室一厅", "三室两厅", "四室两厅", "一室一厅", "复式四室", "五室三厅")
STYLES = ("现代简约", "北欧", "新中式", "日式原木", "轻奢", "美式", "法式", "侘寂风", "工业风", "奶油风")
HOUSEHOLDS = ("夫妻二人", "三口之家", "三代同堂", "夫妻加两个孩子", "独居", "夫妻和父母", "小两口，计划要孩子")
HABITS = (
    "喜欢做饭，厨房要大",
    "在家办公，需要书房",
    "养猫，地板要耐磨",
    "老人同住，需要无障碍",
    "收纳需求大",
    "喜欢泡澡",
)
NEEDS = ("全屋翻新，水电重做", "卫生间改造", "厨房改开放式", "老房局部翻新", "新房精装", "增加收纳空间", "隔音改造")
LOST_REASONS = ("预算不足", "选择了其他公司", "暂缓装修", "价格太高", "联系不上", "房子出售")
FOLLOW_OUTCOMES = (
    "电话沟通需求，客户有意向",
    "已约量房时间",
    "发送方案，等待反馈",
    "客户到店参观样板间",
    "客户对报价有疑问",
)
PROGRESS_NOTES = (
    "今日完成拆除，垃圾已清运",
    "水电开槽完成，管线已布",
    "卫生间闭水试验进行中",
    "墙地砖铺贴过半",
    "木工吊顶完成",
    "乳胶漆第二遍完成",
    "橱柜安装完毕",
    "现场已清洁，等待验收",
    "防水涂刷两遍完成",
    "电路打压测试合格",
)
FACILITIES = "墙面有轻微裂缝，地面平整，门窗完好，水表电表正常，原有管线老化需更换"
COMPLAINT_TEXTS = (
    "卫生间墙角渗水",
    "工期比合同约定延误",
    "工人态度不好",
    "瓷砖有色差",
    "增项收费不透明",
    "木门关不严",
    "墙面开裂",
    "施工噪音扰民被物业投诉",
    "地板起鼓",
)
RESOLUTIONS = ("已安排返工并复查合格", "已补偿部分费用", "更换了施工班组", "已更换材料", "已向客户说明并致歉")
SUGGESTIONS = ("希望工地更整洁", "沟通及时一些", "整体满意", "下次还会推荐朋友", "")

# Quotation lines: (category, name, unit, unit price range).
CATALOGUE = (
    ("demolition", "墙体拆除", "m²", (45, 80)),
    ("plumbing_electrical", "水电改造（全屋）", "m²", (120, 180)),
    ("masonry", "地砖铺贴", "m²", (60, 95)),
    ("carpentry", "石膏板吊顶", "m²", (150, 220)),
    ("painting", "墙面乳胶漆", "m²", (28, 45)),
    ("installation", "灯具洁具安装", "项", (800, 2000)),
    ("main_materials", "主材：强化复合地板", "m²", (120, 260)),
    ("main_materials", "主材：整体橱柜", "延米", (1800, 3500)),
)
WATERPROOFING_LINE = ("waterproofing", "防水涂料（聚合物水泥）", "m²", (70, 110))
TRADES = ("plumbing_electrical", "masonry", "carpentry", "painting", "waterproofing", "installation")

LEAD_CHANNELS = (
    ("online", 30),
    ("showroom", 15),
    ("referral", 15),
    ("partner", 10),
    ("phone", 15),
    ("event", 10),
    ("other", 5),
)
_CHANNEL_BAG = tuple(name for name, weight in LEAD_CHANNELS for _ in range(weight))
REQUIRED_SIGNOFFS = {
    "concealed_works": ("homeowner", "qc_inspector", "site_manager"),
    "waterproofing_test": ("homeowner", "qc_inspector", "site_manager"),
}
INSPECTED_PHASES = {"concealed_works_inspection": "concealed_works", "waterproofing_test": "waterproofing_test"}
PROGRESS_SKIPPED = {"technical_handover", "completion_acceptance"}


@dataclass
class Batch:
    table: str
    columns: tuple[str, ...]
    rows: list[tuple]
    # Applied after the rows are in (same transaction): (sql with %s for a staging table name) — used where
    # the application itself writes in two steps (a quotation version is a draft while its items go in).
    then: str | None = None


@dataclass
class FirmPlan:
    """What the loader tells the generator about one firm (all plain data, so it can cross processes)."""

    index: int
    tenant_id: int
    slug: str
    customers: int
    leads: int
    projects: int
    complaints: int
    overdue_complaints: int
    due_callbacks: int
    bench_day: int  # date ordinal
    seed: int
    staff: dict[str, list[int]]  # role -> user ids
    steps: list[tuple]  # (id, name, unit, offset, method) of the active handover steps
    rules: list[tuple]  # (id, name, area, trade, months, needs_waterproofing) of the active coverage rules
    template: list[tuple]  # (position, kind, name, duration_days, requires_acceptance)
    reminder_days: list[int]
    complaint_hours: tuple[int, int, int, int]  # level 1 respond/resolve, level 2 respond/resolve
    admin_id: int = 0


@dataclass
class FirmResult:
    tenant_id: int
    counts: dict[str, int] = field(default_factory=dict)
    due_callbacks: int = 0
    due_reminders: int = 0
    overdue_complaints: int = 0
    sample_leads: list[int] = field(default_factory=list)
    sample_worksites: list[int] = field(default_factory=list)


@cache
def ds(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def ts(ordinal: int, seconds: int) -> str:
    """A moment on a day, Asia/Shanghai wall clock (``seconds`` after midnight, may spill into the next day)."""
    day, seconds = divmod(seconds, 86400)
    hours, rest = divmod(seconds, 3600)
    return f"{ds(ordinal + day)} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}+08"


@cache
def _months_later(ordinal: int, months: int) -> int:
    return add_months(date.fromordinal(ordinal), months).toordinal()


@cache
def step_due(ordinal: int, unit: str, offset: int) -> int:
    day = date.fromordinal(ordinal)
    if unit == "months":
        return add_months(day, offset).toordinal()
    if unit == "working_days":
        return add_working_days(day, offset).toordinal()
    return ordinal + offset


def money(value: float) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def generate_firm(plan: FirmPlan, take_ids):  # noqa: C901 — one firm's lifecycle, read top to bottom
    rnd = random.Random(plan.seed)
    r = rnd.random
    ri = rnd.randint
    ch = rnd.choice
    today = plan.bench_day
    start = today - DAYS
    tid = str(plan.tenant_id)
    staff = plan.staff
    sales, designers = staff["sales"], staff["designer"]
    pms, qcs, agents = staff["project_manager"], staff["qc"], staff["customer_service"]
    result = FirmResult(tenant_id=plan.tenant_id)

    def near(score: int) -> str:
        return str(max(1, min(5, score + ri(-1, 1))))

    def name() -> str:
        return ch(SURNAMES) + ch(GIVEN) + (ch(GIVEN) if r() < 0.6 else "")

    # Customers: the project customers first (their first lead was won), then everyone else.
    n_c, n_p = plan.customers, plan.projects
    first = take_ids("leads_customer", n_c)
    mult = 1 + 2 * ri(1, 10**7)  # odd and not a multiple of 5: a bijection on 8-digit numbers
    offset_mobile = ri(0, 10**8 - 1)
    prefixes = ("138", "139", "136", "158", "159", "186", "188", "135", "137", "150", "151", "187", "189", "177")
    cust_name, cust_created, cust_mobile = [], [], []
    sign_days = sorted(ri(start + 75, today - 1) for _ in range(n_p))
    customers = []
    for i in range(n_c):
        created = sign_days[i] - ri(14, 75) if i < n_p else ri(start, today)
        nm = name()
        mobile = prefixes[i % len(prefixes)] + f"{(mult * i + offset_mobile) % 10**8:08d}"
        cust_name.append(nm)
        cust_created.append(created)
        cust_mobile.append(mobile)
        birthday = ds(ri(date(1955, 1, 1).toordinal(), date(1995, 12, 31).toordinal())) if r() < 0.3 else None
        at = ts(created, ri(9 * 3600, 20 * 3600))
        customers.append((str(first + i), tid, nm, mobile, "", birthday, "", at, at))
    yield Batch(
        "leads_customer",
        ("id", "tenant_id", "name", "mobile", "other_contacts", "birthday", "notes", "created_at", "updated_at"),
        customers,
    )
    del customers

    prop_first = take_ids("leads_property", n_c)
    properties, addresses = [], []
    for i in range(n_c):
        city, districts = ch(CITIES)
        community = ch(COMMUNITIES)
        address = f"{city}{ch(districts)}{community}{ri(1, 30)}栋{ri(1, 4)}单元{ri(1, 33)}0{ri(1, 4)}室"
        addresses.append(community)
        properties.append(
            (
                str(prop_first + i),
                tid,
                str(first + i),
                address,
                money(rnd.uniform(45, 220)),
                ch(LAYOUTS),
                "old" if r() < 0.3 else "new",
                "villa" if r() < 0.04 else "apartment",
                ts(cust_created[i], 40000),
            )
        )
    yield Batch(
        "leads_property",
        ("id", "tenant_id", "customer_id", "address", "area", "layout", "condition", "kind", "created_at"),
        properties,
    )
    del properties

    # Leads: one per customer, the rest are second leads of existing customers.
    n_l = max(plan.leads, n_c)
    lead_first = take_ids("leads_lead", n_l)
    leads, follow_ups, rewards = [], [], []
    lead_sales, lead_designer = [], []
    for j in range(n_l):
        lid = lead_first + j
        if j < n_c:
            c = j
            created = cust_created[c]
        else:
            c = ri(0, n_c - 1)
            created = ri(min(cust_created[c] + 30, today), today)
        channel = ch(_CHANNEL_BAG) if j < n_c else ("aftercare" if c < n_p and r() < 0.6 else ch(_CHANNEL_BAG))
        referrer = None
        if channel == "referral":
            if c > 0:
                referrer = str(first + ri(0, c - 1))
            else:
                channel = "online"
        age = today - created
        if j < n_p:
            status = "won"
        elif age > 120:
            status = "lost" if r() < 0.85 else ch(("contacted", "measured", "proposal"))
        else:
            x = r()
            status = (
                "new"
                if x < 0.25
                else "contacted"
                if x < 0.5
                else "measured"
                if x < 0.65
                else "proposal"
                if x < 0.8
                else "lost"
            )
        seller = ch(sales)
        designer = ch(designers) if status in ("measured", "proposal", "won") else None
        lead_sales.append(seller)
        lead_designer.append(designer)
        budget = ri(8, 80) * 10000
        follow_on = ds(today + ri(-3, 14)) if status in ("new", "contacted", "measured", "proposal") else None
        updated = min(created + ri(0, 60), today)
        leads.append(
            (
                str(lid),
                tid,
                str(first + c),
                str(prop_first + c),
                channel,
                referrer,
                ch(HOUSEHOLDS),
                ch(HABITS),
                ch(STYLES),
                money(budget),
                money(budget * 1.5),
                ch(NEEDS),
                str(seller),
                str(designer) if designer else None,
                status,
                ch(LOST_REASONS) if status == "lost" else "",
                follow_on,
                ts(created, ri(9 * 3600, 21 * 3600)),
                ts(updated, 72000),
            )
        )
        if status != "new" and r() < 0.45:
            at = min(created + ri(1, 5), today)
            follow_ups.append(
                [
                    tid,
                    str(lid),
                    ch(("call", "visit", "message")),
                    ts(at, ri(9 * 3600, 19 * 3600)),
                    ch(FOLLOW_OUTCOMES),
                    "约量房" if status in ("contacted", "new") else "",
                    follow_on,
                    str(seller),
                ]
            )
        if status == "won" and referrer is not None:
            fulfilled = sign_days[j] + 30 < today
            rewards.append(
                [
                    tid,
                    referrer,
                    str(lid),
                    "amount",
                    "500.00",
                    "",
                    "fulfilled" if fulfilled else "pending",
                    ts(sign_days[j], 50000),
                    ts(sign_days[j] + 30, 50000) if fulfilled else None,
                ]
            )
    yield Batch(
        "leads_lead",
        (
            "id",
            "tenant_id",
            "customer_id",
            "property_id",
            "channel",
            "referrer_id",
            "household",
            "living_habits",
            "style_preferences",
            "budget_min",
            "budget_max",
            "core_needs",
            "assigned_to_id",
            "designer_id",
            "status",
            "lost_reason",
            "next_follow_up_on",
            "created_at",
            "updated_at",
        ),
        leads,
    )
    result.sample_leads = [lead_first + k for k in rnd.sample(range(n_l), min(200, n_l))]
    del leads
    fu_first = take_ids("leads_followup", len(follow_ups))
    yield Batch(
        "leads_followup",
        ("id", "tenant_id", "lead_id", "kind", "at", "outcome", "next_step", "next_contact_on", "by_id"),
        [(str(fu_first + k), *row) for k, row in enumerate(follow_ups)],
    )
    del follow_ups
    if rewards:
        rw_first = take_ids("leads_referralreward", len(rewards))
        yield Batch(
            "leads_referralreward",
            (
                "id",
                "tenant_id",
                "referrer_id",
                "lead_id",
                "kind",
                "amount",
                "gift",
                "status",
                "created_at",
                "fulfilled_at",
            ),
            [(str(rw_first + k), *row) for k, row in enumerate(rewards)],
        )

    # Quotations: one per project, a quarter went through a superseded first version.
    q_first = take_ids("contracts_quotation", n_p)
    quotations = []
    versions_spec = []  # (quotation index, number, accepted, based_on index or None)
    for p in range(n_p):
        quotations.append(
            (
                str(q_first + p),
                tid,
                str(lead_first + p),
                f"{addresses[p]} {cust_name[p]}宅装修报价",
                str(lead_designer[p]),
                ts(sign_days[p] - ri(5, 12), 36000),
            )
        )
        if r() < 0.25:
            versions_spec.append((p, 1, False))
        versions_spec.append((p, 2 if versions_spec and versions_spec[-1][0] == p else 1, True))
    yield Batch(
        "contracts_quotation", ("id", "tenant_id", "lead_id", "title", "created_by_id", "created_at"), quotations
    )
    del quotations
    v_first = take_ids("contracts_quotationversion", len(versions_spec))
    item_rows, version_rows, version_final = [], [], []
    accepted_version = [0] * n_p
    accepted_total = [0.0] * n_p
    waterproofed = [False] * n_p
    it_count = 0
    items_per_version = []
    for p, _number, accepted in versions_spec:
        lines = rnd.sample(CATALOGUE, 3 if accepted else 1)
        if accepted and r() < 0.7:
            lines.append(WATERPROOFING_LINE)
            waterproofed[p] = True
        items_per_version.append(lines)
        it_count += len(lines)
    it_first = take_ids("contracts_quotationitem", it_count)
    it_id = it_first
    for k, (p, number, accepted) in enumerate(versions_spec):
        vid = v_first + k
        total = 0.0
        for pos, (category, item, unit, (low, high)) in enumerate(items_per_version[k], start=1):
            qty = ri(8, 120)
            price = ri(low, high)
            amount = qty * price
            total += amount
            item_rows.append(
                (
                    str(it_id),
                    tid,
                    str(vid),
                    str(pos),
                    category,
                    item,
                    unit,
                    f"{qty}.00",
                    f"{price}.00",
                    "",
                    f"{amount}.00",
                )
            )
            it_id += 1
        sign = sign_days[p]
        created = ts(sign - ri(3, 10), 40000)
        version_rows.append(
            (str(vid), tid, str(q_first + p), str(number), "draft", "", money(total), created, "", "", "")
        )
        based_on = str(vid - 1) if number == 2 else None
        if accepted:
            accepted_version[p], accepted_total[p] = vid, total
            version_final.append(
                (
                    str(vid),
                    "accepted",
                    ts(sign - 2, 40000),
                    ts(sign, 50000),
                    "staff",
                    str(lead_designer[p]),
                    cust_name[p],
                    based_on,
                )
            )
        else:
            version_final.append((str(vid), "superseded", ts(sign - 6, 40000), None, "", None, "", None))
    yield Batch(
        "contracts_quotationversion",
        (
            "id",
            "tenant_id",
            "quotation_id",
            "number",
            "status",
            "note",
            "total",
            "created_at",
            "accepted_via",
            "accepted_name",
            "signature",
        ),
        version_rows,
    )
    del version_rows
    yield Batch(
        "contracts_quotationitem",
        (
            "id",
            "tenant_id",
            "version_id",
            "position",
            "category",
            "name",
            "unit",
            "quantity",
            "unit_price",
            "brand_model",
            "amount",
        ),
        item_rows,
    )
    del item_rows
    # Sent and signed once the items are in, as the application does it (the items of a sent version are
    # frozen by a trigger).
    yield Batch(
        "contracts_quotationversion",
        ("id", "status", "sent_at", "accepted_at", "accepted_via", "accepted_by_id", "accepted_name", "based_on_id"),
        version_final,
        then="update",
    )
    del version_final

    # Projects, contracts and their worksites with the phase schedule.
    template = plan.template
    build_days = sum(t[3] for t in template)
    pr_first = take_ids("contracts_project", n_p)
    ct_first = take_ids("contracts_contract", n_p)
    ws_first = take_ids("worksites_worksite", n_p)
    projects, contracts, instalments, worksites, phases = [], [], [], [], []
    tech_handovers, handovers, progress, inspections, signoffs = [], [], [], [], []
    handed_over = [None] * n_p  # handover day ordinal
    ws_agent, ws_pm, ws_qc, ws_designer = [0] * n_p, [0] * n_p, [0] * n_p, [0] * n_p
    project_state = [""] * n_p
    phase_ids = take_ids("worksites_phase", n_p * len(template))
    phase_id = phase_ids
    for p in range(n_p):
        sign = sign_days[p]
        pid, wid = pr_first + p, ws_first + p
        planned_start = sign + ri(7, 20)
        # Actual schedule: each phase may overrun by a few days.
        day = planned_start + ri(0, 3)
        plan_day = planned_start
        sched = []
        for position, kind, pname, duration, needs_signature in template:
            actual = duration + (ri(0, 3) if r() < 0.4 else 0)
            sched.append(
                (position, kind, pname, needs_signature, plan_day, plan_day + duration - 1, day, day + actual - 1)
            )
            plan_day += duration
            day += actual
        completion = sched[-1][7]
        handover_day = completion + ri(0, 2)
        started = sched[0][6] <= today
        if handover_day <= today:
            state = "handed_over"
            handed_over[p] = handover_day
        elif started:
            state = "in_construction"
        else:
            state = "signed"
        project_state[p] = state
        agent, pm, qc, designer = ch(agents), ch(pms), ch(qcs), lead_designer[p] or ch(designers)
        ws_agent[p], ws_pm[p], ws_qc[p], ws_designer[p] = agent, pm, qc, designer
        projects.append(
            (
                str(pid),
                tid,
                str(first + p),
                str(prop_first + p),
                str(lead_first + p),
                f"{addresses[p]} {cust_name[p]}宅",
                state,
                ds(handover_day) if state == "handed_over" else None,
                ts(sign, 52000),
            )
        )
        total = accepted_total[p]
        contracts.append(
            (
                str(ct_first + p),
                tid,
                str(pid),
                f"HT{date.fromordinal(sign):%Y%m}-{p + 1:06d}",
                ch(("half", "full", "full", "whole_house")),
                str(accepted_version[p]),
                money(total),
                money(total),
                ds(planned_start),
                ds(planned_start + build_days - 1),
                "",
                ds(sign),
                str(lead_sales[p]),
                ts(sign, 52000),
            )
        )
        deposit, midterm = round(total * 0.3, 2), round(total * 0.6, 2)
        final = round(total - deposit - midterm, 2)
        mid_day = next((s[7] for s in sched if s[1] == "waterproofing_test"), completion)
        mid_due = mid_day if mid_day <= today else None
        final_due = handover_day + 3 if state == "handed_over" else None
        instalments.append(
            [
                tid,
                str(ct_first + p),
                "1",
                "deposit",
                money(deposit),
                "on_signing",
                "0",
                "",
                ds(sign),
                ds(sign),
                money(deposit),
            ]
        )
        instalments.append(
            [
                tid,
                str(ct_first + p),
                "2",
                "midterm",
                money(midterm),
                "mid_inspection",
                "0",
                "",
                ds(mid_due) if mid_due else None,
                ds(mid_due + ri(0, 3)) if mid_due and mid_due + 3 < today else None,
                money(midterm) if mid_due and mid_due + 3 < today else None,
            ]
        )
        paid_final = final_due is not None and final_due <= today and r() < 0.95
        instalments.append(
            [
                tid,
                str(ct_first + p),
                "3",
                "final",
                money(final),
                "acceptance",
                "3",
                "",
                ds(final_due) if final_due else None,
                ds(final_due) if paid_final else None,
                money(final) if paid_final else None,
            ]
        )
        ws_status = {"handed_over": "handed_over", "in_construction": "in_progress", "signed": "not_started"}[state]
        worksites.append(
            (
                str(wid),
                tid,
                str(pid),
                str(ct_first + p),
                str(designer),
                str(pm),
                str(qc),
                str(agent),
                ws_status,
                ts(sign, 52100),
            )
        )
        had_progress = False
        for position, kind, pname, needs_signature, ps, pe, a_s, a_e in sched:
            if a_e < today or state == "handed_over":
                status = "accepted" if needs_signature else "done"
                actual_start, actual_end = ds(a_s), ds(a_e)
            elif a_s <= today:
                status, actual_start, actual_end = "in_progress", ds(a_s), None
            else:
                status, actual_start, actual_end = "planned", None, None
            accepted = status == "accepted"
            phases.append(
                (
                    str(phase_id),
                    tid,
                    str(wid),
                    str(position),
                    kind,
                    pname,
                    ds(ps),
                    ds(pe),
                    actual_start,
                    actual_end,
                    status,
                    needs_signature,
                    ts(a_e, 61200) if accepted else None,
                    cust_name[p] if accepted else "",
                    "",
                )
            )
            if status != "planned":
                if kind not in PROGRESS_SKIPPED and r() < 0.5:
                    visible = r() < 0.92
                    progress.append(
                        [
                            tid,
                            str(wid),
                            str(phase_id),
                            ch(PROGRESS_NOTES),
                            visible,
                            str(pm),
                            ts(min(a_s + ri(0, max(0, a_e - a_s)), today), ri(10 * 3600, 18 * 3600)),
                        ]
                    )
                    had_progress = had_progress or visible
                inspection_kind = INSPECTED_PHASES.get(kind)
                if inspection_kind:
                    passed = status in ("done", "accepted")
                    inspections.append(
                        (
                            [
                                tid,
                                str(wid),
                                str(phase_id),
                                inspection_kind,
                                ds(a_e),
                                "passed" if passed else "pending",
                                "合格" if passed else "",
                                f"tenants/{tid}/inspections/circuit-{wid}.pdf"
                                if inspection_kind == "concealed_works"
                                else "",
                                ts(a_e, 57600) if passed else None,
                                str(qc) if passed else None,
                                str(pm),
                                ts(a_s, 36000),
                            ],
                            (p, a_e) if passed else None,
                            inspection_kind,
                        )
                    )
            phase_id += 1
        if had_progress:
            result.sample_worksites.append(wid)
        if started:
            tech_handovers.append(
                [
                    tid,
                    str(wid),
                    ds(sched[0][6]),
                    True,
                    True,
                    True,
                    True,
                    "",
                    FACILITIES,
                    True,
                    True,
                    str(pm),
                    ts(sched[0][6], 40000),
                ]
            )
        if state == "handed_over":
            pre = sched[-2][6]
            handovers.append(
                [
                    tid,
                    str(wid),
                    "completed",
                    ts(pre, 36000),
                    str(pm),
                    ds(handover_day),
                    ts(handover_day, 57600),
                    str(pm),
                ]
            )
    yield Batch(
        "contracts_project",
        ("id", "tenant_id", "customer_id", "property_id", "lead_id", "name", "status", "handed_over_on", "created_at"),
        projects,
    )
    yield Batch(
        "contracts_contract",
        (
            "id",
            "tenant_id",
            "project_id",
            "number",
            "package_type",
            "quotation_version_id",
            "original_amount",
            "amount",
            "planned_start",
            "planned_end",
            "terms",
            "signed_on",
            "signed_by_id",
            "created_at",
        ),
        contracts,
    )
    in_first = take_ids("contracts_instalment", len(instalments))
    yield Batch(
        "contracts_instalment",
        (
            "id",
            "tenant_id",
            "contract_id",
            "sequence",
            "kind",
            "amount",
            "trigger",
            "due_days_after_trigger",
            "trigger_phase",
            "due_on",
            "paid_on",
            "paid_amount",
        ),
        [(str(in_first + k), *row) for k, row in enumerate(instalments)],
    )
    del projects, contracts, instalments
    yield Batch(
        "worksites_worksite",
        (
            "id",
            "tenant_id",
            "project_id",
            "contract_id",
            "designer_id",
            "project_manager_id",
            "qc_inspector_id",
            "customer_service_id",
            "status",
            "created_at",
        ),
        worksites,
    )
    del worksites
    yield Batch(
        "worksites_phase",
        (
            "id",
            "tenant_id",
            "worksite_id",
            "position",
            "kind",
            "name",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "status",
            "requires_acceptance",
            "accepted_at",
            "accepted_name",
            "notes",
        ),
        phases,
    )
    del phases
    th_first = take_ids("worksites_technicalhandover", len(tech_handovers))
    yield Batch(
        "worksites_technicalhandover",
        (
            "id",
            "tenant_id",
            "worksite_id",
            "held_on",
            "homeowner_present",
            "designer_present",
            "foreman_present",
            "site_manager_present",
            "other_attendees",
            "existing_facilities",
            "drawings_given",
            "quotation_given",
            "recorded_by_id",
            "created_at",
        ),
        [(str(th_first + k), *row) for k, row in enumerate(tech_handovers)],
    )
    pu_first = take_ids("worksites_progressupdate", len(progress))
    yield Batch(
        "worksites_progressupdate",
        ("id", "tenant_id", "worksite_id", "phase_id", "note", "visible_to_homeowner", "posted_by_id", "posted_at"),
        [(str(pu_first + k), *row) for k, row in enumerate(progress)],
    )
    del progress, tech_handovers
    ins_first = take_ids("worksites_inspection", len(inspections))
    for k, (_row, passed, kind) in enumerate(inspections):
        if passed is None:
            continue
        p, day = passed
        for role in REQUIRED_SIGNOFFS[kind]:
            by = {"homeowner": None, "qc_inspector": ws_qc[p], "site_manager": ws_pm[p]}[role]
            signoffs.append(
                [
                    tid,
                    str(ins_first + k),
                    role,
                    str(by) if by else None,
                    cust_name[p] if by is None else "签字",
                    ts(day, 55000),
                    "",
                ]
            )
    yield Batch(
        "worksites_inspection",
        (
            "id",
            "tenant_id",
            "worksite_id",
            "phase_id",
            "kind",
            "scheduled_on",
            "result",
            "findings",
            "circuit_diagram",
            "decided_at",
            "decided_by_id",
            "created_by_id",
            "created_at",
        ),
        [(str(ins_first + k), *row) for k, (row, _p, _k) in enumerate(inspections)],
    )
    del inspections
    so_first = take_ids("worksites_signoff", len(signoffs))
    yield Batch(
        "worksites_signoff",
        ("id", "tenant_id", "inspection_id", "role", "signed_by_id", "signed_name", "signed_at", "note"),
        [(str(so_first + k), *row) for k, row in enumerate(signoffs)],
    )
    del signoffs
    ho_first = take_ids("worksites_handover", len(handovers))
    yield Batch(
        "worksites_handover",
        (
            "id",
            "tenant_id",
            "worksite_id",
            "status",
            "started_at",
            "started_by_id",
            "handed_over_on",
            "completed_at",
            "completed_by_id",
        ),
        [(str(ho_first + k), *row) for k, row in enumerate(handovers)],
    )
    del handovers

    # Warranties of the handed-over projects, with the expiry reminders earlier sweeps already handled.
    coverages, reminders = [], []
    leads_days = sorted(set(plan.reminder_days))
    for p in range(n_p):
        day = handed_over[p]
        if day is None:
            continue
        for rule_id, rname, area, trade, months, needs_waterproofing in plan.rules:
            if needs_waterproofing and not waterproofed[p]:
                continue
            ends = _months_later(day, months)
            coverages.append(
                [tid, str(pr_first + p), str(rule_id), rname, area, trade, ds(day), ds(ends), "", ts(day, 58000)]
            )
            for lead in leads_days:
                remind = ends - lead
                if remind < today and remind >= start:
                    reminders.append((len(coverages) - 1, lead, remind))
                elif remind == today and ends >= today:
                    result.due_reminders += 1
    cv_first = take_ids("aftercare_coverage", len(coverages))
    yield Batch(
        "aftercare_coverage",
        (
            "id",
            "tenant_id",
            "project_id",
            "rule_id",
            "name",
            "area",
            "trade",
            "starts_on",
            "ends_on",
            "notes",
            "created_at",
        ),
        [(str(cv_first + k), *row) for k, row in enumerate(coverages)],
    )
    del coverages
    wr_first = take_ids("aftercare_warrantyreminder", len(reminders))
    yield Batch(
        "aftercare_warrantyreminder",
        ("id", "tenant_id", "coverage_id", "days_before", "sent_on", "skipped"),
        [
            (str(wr_first + k), tid, str(cv_first + c), str(lead), ds(day), False)
            for k, (c, lead, day) in enumerate(reminders)
        ],
    )
    del reminders

    # Callbacks: the plan's rows of every handed-over project. The most recent ``due_callbacks`` that are
    # due by the bench day wait for the sweeper (as after a beat outage); older ones were released and
    # worked, later ones are scheduled.
    plan_rows = []
    for p in range(n_p):
        day = handed_over[p]
        if day is None:
            continue
        for step_id, sname, unit, offset, method in plan.steps:
            plan_rows.append((step_due(day, unit, offset), p, step_id, sname, method))
    cb_first = take_ids("callbacks_callback", len(plan_rows))
    past = sorted((k for k, row in enumerate(plan_rows) if row[0] <= today), key=lambda k: (plan_rows[k][0], k))
    if len(past) < plan.due_callbacks:
        raise RuntimeError(
            f"firm {plan.slug}: only {len(past)} callbacks due by the bench day, {plan.due_callbacks} wanted"
        )
    waiting = set(past[len(past) - plan.due_callbacks :]) if plan.due_callbacks else set()
    backlog_from = plan_rows[past[len(past) - plan.due_callbacks]][0] if plan.due_callbacks else today
    result.due_callbacks = len(waiting)
    callbacks, attempts, surveys, defects = [], [], [], []
    for k, (due, p, step_id, sname, method) in enumerate(plan_rows):
        cid = cb_first + k
        agent = ws_agent[p]
        base = [
            str(cid),
            tid,
            str(pr_first + p),
            str(ws_first + p),
            str(first + p),
            str(step_id),
            sname,
            ds(due),
            method,
            ts(handed_over[p], 58000),
        ]
        if due > today or k in waiting:
            callbacks.append((*base, "scheduled", None, None, "0", None, None, None, ""))
            continue
        released = ts(due, 8 * 3600 + 300)
        recent = due >= backlog_from - 7
        x = r()
        if recent and x < 0.5:
            callbacks.append((*base, "open", released, str(agent), "0", None, None, None, ""))
            if method == "sms":
                attempts.append((k, "sms", "sms_sent", ts(due, 8 * 3600 + 320), None))
            continue
        if recent and x < 0.6 and method == "phone":
            attempts.append((k, "phone", "no_answer", ts(due, 10 * 3600), agent))
            callbacks.append((*base, "retry", released, str(agent), "1", ts(today + 1, 10 * 3600), None, None, ""))
            continue
        x = r()
        if x < 0.78 or recent:
            done_day = min(due + ri(0, 3), today)
            done = ts(done_day, ri(10 * 3600, 17 * 3600))
            if method == "sms":
                attempts.append((k, "sms", "sms_sent", ts(due, 8 * 3600 + 320), None))
            else:
                attempts.append((k, method, "reached", done, agent))
            callbacks.append((*base, "completed", released, str(agent), "0", None, done, str(agent), ""))
            overall = ch((5, 5, 5, 4, 4, 4, 3, 2, 1))
            via_link = method == "sms"
            surveys.append(
                (
                    str(cid),
                    "sms_link" if via_link else "staff",
                    True,
                    "",
                    str(overall),
                    near(overall),
                    near(overall),
                    near(overall),
                    near(overall),
                    ch(("exceeded", "met", "met", "below")) if overall >= 3 else "below",
                    str(overall),
                    near(overall),
                    str(ch((4, 5))),
                    "",
                    ch(SUGGESTIONS),
                    str(min(10, max(0, overall * 2 + ri(-2, 0)))),
                    str(ws_designer[p]),
                    str(ws_pm[p]),
                    str(ws_qc[p]),
                    str(agent),
                    done,
                    None if via_link else str(agent),
                )
            )
            if overall <= 3 and r() < 0.5:
                defects.append((len(surveys) - 1, ch(TRADES), ch(("leak", "uneven", "seal", "crack", "other"))))
        elif x < 0.93:
            for n in range(3):
                attempts.append((k, "phone", ch(("no_answer", "busy")), ts(due + n, 10 * 3600 + n * 600), agent))
            callbacks.append((*base, "unreachable", released, str(agent), "3", None, None, None, "3次未接通"))
        else:
            callbacks.append((*base, "cancelled", released, str(agent), "0", None, None, None, "客户要求取消回访"))
    yield Batch(
        "callbacks_callback",
        (
            "id",
            "tenant_id",
            "project_id",
            "worksite_id",
            "customer_id",
            "step_id",
            "name",
            "due_on",
            "method",
            "created_at",
            "status",
            "released_at",
            "assigned_to_id",
            "attempts",
            "next_attempt_at",
            "completed_at",
            "completed_by_id",
            "closed_reason",
        ),
        callbacks,
    )
    del callbacks
    at_first = take_ids("callbacks_callbackattempt", len(attempts))
    yield Batch(
        "callbacks_callbackattempt",
        ("id", "tenant_id", "callback_id", "method", "outcome", "note", "at", "by_id"),
        [
            (str(at_first + n), tid, str(cb_first + k), m, o, "", at, str(by) if by else None)
            for n, (k, m, o, at, by) in enumerate(attempts)
        ],
    )
    del attempts
    sv_first = take_ids("callbacks_survey", len(surveys))
    yield Batch(
        "callbacks_survey",
        (
            "id",
            "tenant_id",
            "callback_id",
            "via",
            "contact_confirmed",
            "contact_update",
            "overall",
            "quality_plumbing_electrical",
            "quality_carpentry",
            "quality_masonry",
            "quality_painting",
            "expectation",
            "designer_rating",
            "project_manager_rating",
            "customer_service_rating",
            "materials_feedback",
            "suggestions",
            "nps",
            "designer_id",
            "project_manager_id",
            "qc_inspector_id",
            "customer_service_id",
            "submitted_at",
            "submitted_by_id",
        ),
        [(str(sv_first + n), tid, *row) for n, row in enumerate(surveys)],
    )
    del surveys
    df_first = take_ids("callbacks_surveydefect", len(defects))
    yield Batch(
        "callbacks_surveydefect",
        ("id", "tenant_id", "survey_id", "trade", "kind", "note"),
        [(str(df_first + n), tid, str(sv_first + s), trade, kind, "") for n, (s, trade, kind) in enumerate(defects)],
    )
    del defects

    # Complaints: most were handled and closed; ``overdue_complaints`` are open past a clock (the
    # escalation sweep's work on the bench day), a few more are open and still within their clocks.
    l1_respond, l1_resolve, l2_respond, l2_resolve = plan.complaint_hours
    candidates = [p for p in range(n_p) if project_state[p] != "signed"]
    n_cp = min(plan.complaints, len(candidates))
    chosen = rnd.sample(candidates, n_cp) if candidates else []
    n_over = min(plan.overdue_complaints, n_cp)
    n_active = min(max(1, n_over // 2), n_cp - n_over) if n_cp > n_over else 0
    cp_first = take_ids("complaints_complaint", n_cp)
    complaints, entries, escalations = [], [], []
    hour = 3600
    admin = plan.admin_id
    for n, p in enumerate(chosen):
        cid = str(cp_first + n)
        agent, pm = ws_agent[p], ws_pm[p]
        category = ch(("quality", "quality", "schedule", "attitude", "materials", "price", "other"))
        common = [
            cid,
            tid,
            str(first + p),
            str(pr_first + p),
            ch(("phone", "callback", "portal", "visit", "online")),
            category,
            ch(TRADES) if category == "quality" else "",
            ch(("low", "normal", "normal", "high")),
            ch(COMPLAINT_TEXTS),
            str(pm),
        ]
        if n < n_over:
            # Opened one to three days before the bench day; its clock ran out before the bench day began.
            opened_day, opened_s = today - ri(1, 3), ri(8 * hour, 18 * hour)
            if r() < 0.3:
                # Already moved up once, and level 2's clock ran out too.
                moved = opened_s + l1_respond * hour
                complaints.append(
                    (
                        *common,
                        "open",
                        "2",
                        str(admin),
                        "1",
                        ts(opened_day, moved),
                        ts(opened_day, moved + l2_respond * hour),
                        ts(opened_day, moved + l2_resolve * hour),
                        None,
                        None,
                        "",
                        "",
                        None,
                        "",
                        None,
                        ts(opened_day, opened_s),
                        str(agent),
                        None,
                    )
                )
                escalations.append(
                    (cid, "1", "1", "2", "respond", ts(opened_day, moved), ts(opened_day, moved + 300), str(admin))
                )
                entries.append((cid, "opened", "1", "", ts(opened_day, opened_s), str(agent)))
                entries.append((cid, "escalated", "1", "未在时限内响应，升级到二级", ts(opened_day, moved + 300), None))
            else:
                complaints.append(
                    (
                        *common,
                        "open",
                        "1",
                        str(agent),
                        "1",
                        ts(opened_day, opened_s),
                        ts(opened_day, opened_s + l1_respond * hour),
                        ts(opened_day, opened_s + l1_resolve * hour),
                        None,
                        None,
                        "",
                        "",
                        None,
                        "",
                        None,
                        ts(opened_day, opened_s),
                        str(agent),
                        None,
                    )
                )
                entries.append((cid, "opened", "1", "", ts(opened_day, opened_s), str(agent)))
        elif n < n_over + n_active:
            # Opened the day before, answered, and due to be resolved after the bench day.
            opened_day, opened_s = today - 1, ri(9 * hour, 17 * hour)
            respond_by = opened_s + l1_respond * hour
            complaints.append(
                (
                    *common,
                    "in_progress",
                    "1",
                    str(agent),
                    "1",
                    ts(opened_day, opened_s),
                    ts(opened_day, respond_by),
                    ts(opened_day, opened_s + max(l1_resolve, 48) * hour),
                    ts(opened_day, opened_s + hour),
                    None,
                    "",
                    "",
                    None,
                    "",
                    None,
                    ts(opened_day, opened_s),
                    str(agent),
                    None,
                )
            )
            entries.append((cid, "opened", "1", "", ts(opened_day, opened_s), str(agent)))
            entries.append(
                (cid, "responded", "1", "已联系客户，安排上门查看", ts(opened_day, opened_s + hour), str(agent))
            )
        else:
            low = sign_days[p] + 20
            opened_day = ri(min(low, today - 5), today - 5)
            opened_s = ri(9 * hour, 17 * hour)
            resolved_s = opened_s + ri(6, 40) * hour
            satisfied = r() < 0.85
            complaints.append(
                (
                    *common,
                    "closed",
                    "1",
                    str(agent),
                    "1",
                    ts(opened_day, opened_s),
                    ts(opened_day, opened_s + l1_respond * hour),
                    ts(opened_day, opened_s + l1_resolve * hour),
                    ts(opened_day, opened_s + 2 * hour),
                    ts(opened_day, resolved_s),
                    ch(RESOLUTIONS),
                    ch(("workmanship", "material_defect", "communication", "scheduling", "supplier")),
                    ts(opened_day, resolved_s + hour),
                    "satisfied" if satisfied else "not_satisfied",
                    ts(opened_day, resolved_s + 2 * hour),
                    ts(opened_day, opened_s),
                    str(agent),
                    ts(opened_day, resolved_s + 2 * hour),
                )
            )
            for kind, offset in (
                ("opened", 0),
                ("responded", 2 * hour),
                ("resolved", resolved_s - opened_s),
                ("reported", resolved_s - opened_s + hour),
                ("verdict", resolved_s - opened_s + 2 * hour),
                ("closed", resolved_s - opened_s + 2 * hour),
            ):
                entries.append((cid, kind, "1", "", ts(opened_day, opened_s + offset), str(agent)))
    result.overdue_complaints = n_over
    yield Batch(
        "complaints_complaint",
        (
            "id",
            "tenant_id",
            "customer_id",
            "project_id",
            "channel",
            "category",
            "trade",
            "severity",
            "description",
            "responsible_id",
            "status",
            "level",
            "owner_id",
            "cycle",
            "level_started_at",
            "respond_by",
            "resolve_by",
            "responded_at",
            "resolved_at",
            "resolution",
            "root_cause",
            "reported_at",
            "verdict",
            "verdict_at",
            "opened_at",
            "opened_by_id",
            "closed_at",
        ),
        complaints,
    )
    del complaints
    en_first = take_ids("complaints_complaintentry", len(entries))
    yield Batch(
        "complaints_complaintentry",
        ("id", "tenant_id", "complaint_id", "kind", "level", "text", "at", "by_id"),
        [(str(en_first + n), tid, *row) for n, row in enumerate(entries)],
    )
    es_first = take_ids("complaints_complaintescalation", len(escalations))
    yield Batch(
        "complaints_complaintescalation",
        (
            "id",
            "tenant_id",
            "complaint_id",
            "cycle",
            "from_level",
            "to_level",
            "breach",
            "deadline",
            "at",
            "notified_id",
        ),
        [(str(es_first + n), tid, *row) for n, row in enumerate(escalations)],
    )
    yield result
