"""The handover API: starting, checking, rectification, documents, completion, filters and budgets."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.worksites.test_handover_services import (
    add_required_documents,
    open_worksite,
    pass_all,
    pdf,
    stored_files,
)
from worksites.models import AcceptanceItem, Handover, HandoverDocument, RectificationItem
from worksites.services import handover as services


@pytest.fixture
def foreman(firm_a):
    return MembershipFactory(tenant=firm_a, role="project_manager").user


@pytest.fixture
def worksite(firm_a):
    with tenant_context(firm_a):
        return open_worksite()


@pytest.fixture
def handover(firm_a, worksite, foreman):
    with tenant_context(firm_a):
        return services.handover_start(worksite=worksite, started_by=foreman)


def local_today(firm):
    with tenant_context(firm):
        return firm_today()


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def fields(response):
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def test_starting_a_handover_copies_the_checklist_once(staff_client, worksite, firm_a, firm_b):
    created = post(staff_client, "/api/v1/handovers/", {"worksite": worksite.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["worksite"], body["status"], body["started_by"]) == (
        worksite.pk,
        "in_progress",
        staff_client.membership.user.pk,
    )
    assert len(body["items"]) == len(services.DEFAULT_CHECKLIST)
    assert [i["position"] for i in body["items"]] == list(range(1, len(services.DEFAULT_CHECKLIST) + 1))
    assert body["missing_documents"] == [str(kind) for kind in HandoverDocument.REQUIRED_KINDS]
    again = post(staff_client, "/api/v1/handovers/", {"worksite": worksite.pk})
    assert again.status_code == 200 and again.json()["id"] == body["id"]

    with tenant_context(firm_b):
        foreign = open_worksite()
    assert "worksite" in fields(post(staff_client, "/api/v1/handovers/", {"worksite": foreign.pk}))
    assert "worksite" in fields(post(staff_client, "/api/v1/handovers/", {"worksite": "abc"}))
    with tenant_context(firm_b):
        assert not Handover.objects.exists()


def test_checking_an_item_pass_and_fail(api, handover, foreman, firm_a, firm_b):
    with tenant_context(firm_a):
        first, second = list(handover.items.order_by("position")[:2])
    passed = post(api, f"/api/v1/acceptance-items/{first.pk}/check/", {"passed": True, "note": "OK"})
    assert passed.status_code == 200, passed.content
    assert (passed.json()["result"], passed.json()["note"], passed.json()["checked_by"]) == ("passed", "OK", None)

    url = f"/api/v1/acceptance-items/{second.pk}/check/"
    assert "rectification" in fields(post(api, url, {"passed": False}))
    assert "passed" in fields(post(api, url, {"passed": "perhaps"}))
    deadline = (local_today(firm_a) + timedelta(days=5)).isoformat()
    nested = fields(post(api, url, {"passed": False, "rectification": {"owner": foreman.pk, "deadline": "soon"}}))
    assert {"description", "deadline"} <= set(nested["rectification"])
    outsider = MembershipFactory(tenant=firm_b, role="project_manager").user
    rect = {"description": "Re-seal the window", "owner": outsider.pk, "deadline": deadline}
    assert "owner" in fields(post(api, url, {"passed": False, "rectification": rect}))["rectification"]
    past = {**rect, "owner": foreman.pk, "deadline": (local_today(firm_a) - timedelta(days=1)).isoformat()}
    assert "deadline" in fields(post(api, url, {"passed": False, "rectification": past}))
    with tenant_context(firm_a):
        assert AcceptanceItem.objects.get(pk=second.pk).result == "pending"
        assert not RectificationItem.objects.exists()

    failed = post(api, url, {"passed": False, "rectification": {**rect, "owner": foreman.pk}})
    assert failed.status_code == 200, failed.content
    assert failed.json()["result"] == "failed"
    [row] = api.get("/api/v1/rectification-items/", {"handover": handover.pk}).json()["results"]
    assert (row["acceptance_item"], row["owner"], row["deadline"], row["status"], row["worksite"]) == (
        second.pk,
        foreman.pk,
        deadline,
        "open",
        handover.worksite_id,
    )
    assert row["overdue"] is False


def test_rectification_create_fix_and_recheck(api, handover, foreman, firm_a):
    today = local_today(firm_a)
    body = {"handover": handover.pk, "description": "Paint", "owner": foreman.pk, "deadline": today.isoformat()}
    assert "deadline" in fields(post(api, "/api/v1/rectification-items/", {**body, "deadline": "2020-01-01"}))
    created = post(api, "/api/v1/rectification-items/", body)
    assert created.status_code == 201, created.content
    item = created.json()
    assert (item["status"], item["owner_name"], item["acceptance_item"]) == ("open", str(foreman), None)
    url = f"/api/v1/rectification-items/{item['id']}"

    assert "non_field_errors" in fields(post(api, f"{url}/recheck/", {"passed": True}))  # not fixed yet
    fixed = post(api, f"{url}/fixed/")
    assert fixed.status_code == 200 and fixed.json()["status"] == "fixed" and fixed.json()["fixed_at"]
    # A partner's key is not QC; a QC inspector re-checks through the API signed in.
    assert "rechecked_by" in fields(post(api, f"{url}/recheck/", {"passed": True}))
    qc = Client(HTTP_ACCEPT_LANGUAGE="en")
    qc.force_login(MembershipFactory(tenant=firm_a, role="qc").user)
    assert "new_deadline" in fields(post(qc, f"{url}/recheck/", {"passed": False, "note": "patchy"}))
    new_deadline = (today + timedelta(days=2)).isoformat()
    reopened = post(qc, f"{url}/recheck/", {"passed": False, "note": "patchy", "new_deadline": new_deadline})
    assert reopened.status_code == 200, reopened.content
    assert (reopened.json()["status"], reopened.json()["deadline"], reopened.json()["recheck_note"]) == (
        "open",
        new_deadline,
        "patchy",
    )
    post(api, f"{url}/fixed/")
    closed = post(qc, f"{url}/recheck/", {"passed": True, "note": "even now"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_documents_upload_and_a_wrong_type_is_refused(api, handover, firm_a):
    url = f"/api/v1/handovers/{handover.pk}/documents/"
    before = stored_files(firm_a)
    fake = SimpleUploadedFile("drawings.pdf", b"GIF89a but not really", content_type="application/pdf")
    refused = api.post(url, {"kind": "as_built_drawings", "file": fake})
    assert "not a file type accepted here" in fields(refused)["file"][0]
    assert "kind" in fields(api.post(url, {"kind": "selfie", "file": pdf()}))
    assert "file" in fields(api.post(url, {"kind": "as_built_drawings"}))
    with tenant_context(firm_a):
        assert not HandoverDocument.objects.exists()
    assert stored_files(firm_a) == before

    uploaded = api.post(url, {"kind": "as_built_drawings", "title": "竣工图", "file": pdf("as-built.pdf")})
    assert uploaded.status_code == 201, uploaded.content
    doc = uploaded.json()
    assert (doc["kind"], doc["title"], doc["content_type"], doc["original_name"]) == (
        "as_built_drawings",
        "竣工图",
        "application/pdf",
        "as-built.pdf",
    )
    assert doc["file_url"].startswith("http://testserver/media/")
    assert api.get(doc["file_url"].removeprefix("http://testserver")).status_code == 200
    body = api.get(f"/api/v1/handovers/{handover.pk}/").json()
    assert [d["id"] for d in body["documents"]] == [doc["id"]]
    assert "as_built_drawings" not in body["missing_documents"] and len(body["missing_documents"]) == 3


def test_completion_refused_with_reasons_then_done_once(api, handover, foreman, firm_a):
    url = f"/api/v1/handovers/{handover.pk}/complete/"
    reasons = fields(post(api, url))["non_field_errors"]
    assert len(reasons) == 4
    assert "phases are not finished" in reasons[0] and "Inspections not passed" in reasons[1]
    assert "checks are not done yet" in reasons[2] and "Documents missing" in reasons[3]
    assert "on" in fields(post(api, url, {"on": "someday"}))
    with tenant_context(firm_a):
        pass_all(handover, foreman)
        add_required_documents(handover, foreman)
    future = (local_today(firm_a) + timedelta(days=1)).isoformat()
    assert "on" in fields(post(api, url, {"on": future}))
    done = post(api, url)
    assert done.status_code == 200, done.content
    today = local_today(firm_a).isoformat()
    assert (done.json()["status"], done.json()["handed_over_on"], done.json()["completed_by"]) == (
        "completed",
        today,
        None,
    )
    assert "already handed over" in fields(post(api, url))["non_field_errors"][0]
    with tenant_context(firm_a):
        [event] = OutboxEvent.objects.filter(event_type="project.handed_over")
    assert event.payload["handed_over_on"] == today
    listed = api.get("/api/v1/handovers/", {"status": "completed", "handed_over_on__gte": today}).json()["results"]
    assert [h["id"] for h in listed] == [handover.pk]


def test_filters(api, handover, foreman, firm_a):
    other = MembershipFactory(tenant=firm_a, role="qc").user
    today = local_today(firm_a)
    with tenant_context(firm_a):
        elsewhere = services.handover_start(worksite=open_worksite("HT-2"), started_by=foreman)
        late = services.rectification_item_create(handover=handover, description="late", owner=foreman, deadline=today)
        RectificationItem.objects.filter(pk=late.pk).update(deadline=today - timedelta(days=2))
        later = services.rectification_item_create(
            handover=handover, description="later", owner=other, deadline=today + timedelta(days=9)
        )
        theirs = services.rectification_item_create(
            handover=elsewhere, description="elsewhere", owner=other, deadline=today
        )
        item = handover.items.first()
        services.acceptance_item_check(item=item, passed=True, checked_by=foreman)

    def ids(path, **params):
        response = api.get(path, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    rect = "/api/v1/rectification-items/"
    assert ids(rect, worksite=handover.worksite_id) == [later.pk, late.pk]
    assert ids(rect, owner=other.pk) == [theirs.pk, later.pk]
    assert ids(rect, overdue="true") == [late.pk]
    assert ids(rect, overdue="false") == [theirs.pk, later.pk]
    assert ids(rect, deadline__gte=today.isoformat(), deadline__lte=today.isoformat()) == [theirs.pk]
    assert ids(rect, status="closed") == []
    assert api.get(rect, {"status": "nonsense"}).status_code == 400
    assert api.get(rect, {"deadline__gte": "not-a-date"}).status_code == 400
    assert ids("/api/v1/acceptance-items/", worksite=handover.worksite_id, result="passed") == [item.pk]
    assert len(ids("/api/v1/acceptance-items/", handover=elsewhere.pk, page_size=100)) == len(
        services.DEFAULT_CHECKLIST
    )
    assert ids("/api/v1/handovers/", worksite=elsewhere.worksite_id) == [elsewhere.pk]
    assert ids("/api/v1/handovers/", status="completed") == []


def test_another_firms_records_are_404_and_unchanged(api, firm_b):
    with tenant_context(firm_b):
        foreman = MembershipFactory(tenant=firm_b, role="project_manager").user
        handover = services.handover_start(worksite=open_worksite(), started_by=foreman)
        item = handover.items.first()
        rect = services.rectification_item_create(
            handover=handover, description="x", owner=foreman, deadline=firm_today()
        )
    assert api.get(f"/api/v1/handovers/{handover.pk}/").status_code == 404
    assert post(api, f"/api/v1/handovers/{handover.pk}/complete/").status_code == 404
    assert api.post(f"/api/v1/handovers/{handover.pk}/documents/", {"kind": "other", "file": pdf()}).status_code == 404
    assert post(api, f"/api/v1/acceptance-items/{item.pk}/check/", {"passed": True}).status_code == 404
    assert post(api, f"/api/v1/rectification-items/{rect.pk}/fixed/").status_code == 404
    body = {"handover": handover.pk, "description": "y", "owner": foreman.pk, "deadline": "2030-01-01"}
    assert "handover" in fields(post(api, "/api/v1/rectification-items/", body))
    with tenant_context(firm_b):
        assert AcceptanceItem.objects.get(pk=item.pk).result == "pending"
        assert RectificationItem.objects.get(pk=rect.pk).status == "open"
        assert not HandoverDocument.objects.exists()


def test_a_read_only_key_reads_but_cannot_act(client, handover, firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["worksites:read"])
        item = handover.items.first()
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key.raw_key}"
    assert client.get("/api/v1/handovers/").status_code == 200
    assert post(client, f"/api/v1/acceptance-items/{item.pk}/check/", {"passed": True}).status_code == 403
    assert post(client, f"/api/v1/handovers/{handover.pk}/complete/").status_code == 403
    with tenant_context(firm_a):
        assert AcceptanceItem.objects.get(pk=item.pk).result == "pending"


@pytest.mark.parametrize("path", ["/api/v1/handovers/", "/api/v1/rectification-items/", "/api/v1/acceptance-items/"])
def test_list_query_counts_do_not_grow(staff_client, foreman, firm_a, path, django_assert_max_num_queries):
    def add(number):
        with tenant_context(firm_a):
            handover = services.handover_start(worksite=open_worksite(number), started_by=foreman)
            item = handover.items.first()
            services.acceptance_item_check(
                item=item,
                passed=False,
                checked_by=foreman,
                rectification={"description": f"Fix {number}", "owner": foreman, "deadline": firm_today()},
            )
            services.handover_document_add(handover=handover, kind="warranty_card", upload=pdf(), uploaded_by=foreman)

    add("HT-0")
    with django_assert_max_num_queries(20) as counted:
        few = staff_client.get(path, {"page_size": 200})
    for n in range(1, 4):
        add(f"HT-{n}")
    with django_assert_max_num_queries(len(counted.captured_queries)):
        many = staff_client.get(path, {"page_size": 200})
    assert len(many.json()["results"]) > len(few.json()["results"])
    if path == "/api/v1/handovers/":
        row = many.json()["results"][0]
        assert len(row["rectification_items"]) == 1 and len(row["documents"]) == 1
        assert row["documents"][0]["file_url"].startswith("http://testserver/media/")
