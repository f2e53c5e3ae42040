"""The API as a partner meets it over HTTP, outside any test transaction: every way of failing to authenticate,
the error paths, and one write per app — with a refused one that leaves nothing behind."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from renocrm.tenancy.context import tenant_context

pytestmark = pytest.mark.live

LEADS = "/api/v1/leads/"


def error(reply, status: int) -> dict:
    """The API's one error body, with the status it names; never a server error, never HTML."""
    assert reply.status == status, (reply.status, reply.body[:300])
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["status"] == status
    assert body["request_id"] == reply.headers["x-request-id"]
    return body["error"]


# Authentication -----------------------------------------------------------------------------------------------


def test_every_authentication_failure_is_401_with_the_error_body_and_the_header(live, live_db):
    from renocrm.api.models import ApiKey
    from tests.factories import ApiKeyFactory

    with tenant_context(live.firm_a.tenant):
        revoked = ApiKeyFactory(name="revoked")
    good = live.call("GET", LEADS, headers={"Authorization": f"Api-Key {revoked.raw_key}"})
    assert good.status == 200
    with tenant_context(live.firm_a.tenant):
        ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())

    refused = {
        "no header": {},
        "bearer": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
        "basic": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "garbage": {"Authorization": "garbage"},
        "keyword alone": {"Authorization": "Api-Key"},
        "lower-case keyword": {"Authorization": f"api-key {live.firm_a.key}"},
        "unknown key": {"Authorization": "Api-Key rck_0123456789ab_not-the-secret"},
        "right prefix, wrong secret": {"Authorization": live.firm_a.api["Authorization"][:-4] + "xxxx"},
        "not a key": {"Authorization": "Api-Key ' OR 1=1 --"},
        "revoked key": {"Authorization": f"Api-Key {revoked.raw_key}"},
    }
    paths = [("GET", LEADS), ("POST", LEADS), ("GET", f"{LEADS}{live.firm_a.ids['lead']}/"), ("GET", "/api/v1/nope/")]
    for case, headers in refused.items():
        # The revoked key several times over: gunicorn's workers and threads each may have remembered it.
        for method, path in paths * (4 if case == "revoked key" else 1):
            body = {"name": "x", "mobile": "13900000000", "channel": "online"} if method == "POST" else None
            reply = live.call(method, path, body=body, headers=headers)
            if path.endswith("/nope/"):
                error(reply, 404)
                continue
            assert error(reply, 401)["code"] in ("not_authenticated", "authentication_failed"), case
            assert reply.headers["www-authenticate"] == "Api-Key", case


def test_signed_in_user_without_a_firm_is_403_with_the_error_body(live):
    reply = live.call("GET", LEADS, headers={"Cookie": f"sessionid={live.lone_session}"})
    assert error(reply, 403)["code"] == "permission_denied"


def test_another_firms_object_is_404_like_a_missing_one(live):
    other = live.call("GET", f"{LEADS}{live.firm_b.ids['lead']}/", headers=live.firm_a.api)
    missing = live.call("GET", f"{LEADS}999999999/", headers=live.firm_a.api)
    assert error(other, 404) == error(missing, 404)


# Error paths --------------------------------------------------------------------------------------------------


def test_error_paths_answer_the_error_body(live):
    api = live.firm_a.api
    lead = f"{LEADS}{live.firm_a.ids['lead']}/"
    assert error(live.call("GET", "/api/v1/no-such-thing/", headers=api), 404)["code"] == "not_found"
    assert error(live.call("GET", "/api/v2/leads/", headers=api), 404)["code"] == "not_found"
    assert error(live.call("GET", f"{LEADS}abc/", headers=api), 404)["code"] == "not_found"
    assert error(live.call("PUT", "/api/v1/audit-events/1/", body={}, headers=api), 405)["code"] == (
        "method_not_allowed"
    )
    assert error(live.call("DELETE", lead, headers=api), 405)["code"] == "method_not_allowed"
    refused = live.call("GET", LEADS, headers={**api, "Accept": "application/xml"})
    assert error(refused, 406)["code"] == "not_acceptable"
    unsupported = live.call("POST", LEADS, data=b"<lead/>", headers={**api, "Content-Type": "application/xml"})
    assert error(unsupported, 415)["code"] == "unsupported_media_type"
    broken = live.call("POST", LEADS, data=b"{not json", headers={**api, "Content-Type": "application/json"})
    assert error(broken, 400)["code"] == "parse_error"
    no_slash = live.call("POST", "/api/v1/leads", body={"name": "x"}, headers=api)
    assert "/api/v1/leads/" in error(no_slash, 404)["message"]
    # A read without the slash is redirected, as Django does for every page.
    redirected = live.call("GET", "/api/v1/leads?page_size=1", headers=api)
    assert redirected.status == 301 and redirected.headers["location"] == "/api/v1/leads/?page_size=1"


# One write per app, and a refused one that leaves nothing behind ---------------------------------------------


def _count(firm, model, **filters) -> int:
    with tenant_context(firm.tenant):
        return model.objects.filter(**filters).count()


def test_lead_create(live, live_db):
    from leads.models import Lead

    firm, before = live.firm_a, _count(live.firm_a, Lead)
    created = live.call(
        "POST", LEADS, body={"name": "张女士", "mobile": "13912345670", "channel": "online"}, headers=firm.api
    )
    assert created.status == 201, created.body
    refused = live.call(
        "POST", LEADS, body={"name": "李先生", "mobile": "12345", "channel": "online"}, headers=firm.api
    )
    assert "mobile" in error(refused, 400)["fields"]
    assert _count(firm, Lead) == before + 1
    assert _count(live.firm_b, Lead, pk=created.json()["id"]) == 0


def test_quotation_version_send_and_set_items_on_a_sent_version(live, live_db):
    from contracts.models import QuotationItem, QuotationVersion

    firm, version = live.firm_a, live.firm_a.ids["version"]
    sent = live.call("POST", f"/api/v1/quotation-versions/{version}/send/", headers=firm.api)
    assert sent.status == 200, sent.body
    assert sent.json()["status"] == "sent"
    items = {"items": [{"category": "masonry", "name": "瓷砖", "unit": "m²", "quantity": "1", "unit_price": "1"}]}
    refused = live.call("POST", f"/api/v1/quotation-versions/{version}/set-items/", body=items, headers=firm.api)
    assert error(refused, 400)["code"] == "invalid"
    assert _count(firm, QuotationVersion, pk=version, status="sent") == 1
    assert list(_names(firm, QuotationItem, version_id=version)) == ["Floor tiles laying"]


def _names(firm, model, **filters):
    with tenant_context(firm.tenant):
        return list(model.objects.filter(**filters).values_list("name", flat=True))


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), "orange").save(out, format="PNG")
    return out.getvalue()


def _multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(head.encode() + b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_progress_update_post_and_one_bad_file_refusing_the_whole_post(live, live_db):
    from worksites.models import ProgressMedia, ProgressUpdate

    firm, worksite = live.firm_a, live.firm_a.ids["worksite"]
    updates = _count(firm, ProgressUpdate, worksite_id=worksite)
    media = _count(firm, ProgressMedia, update__worksite_id=worksite)
    data, content_type = _multipart({"worksite": worksite, "note": "水电完工"}, [("files", "a.png", _png())])
    posted = live.call(
        "POST", "/api/v1/progress-updates/", data=data, headers={**firm.api, "Content-Type": content_type}
    )
    assert posted.status == 201, posted.body
    assert len(posted.json()["media"]) == 1
    files_before = sorted(Path(live.media_root).rglob("*"))

    data, content_type = _multipart(
        {"worksite": worksite, "note": "不该保存"}, [("files", "b.png", _png()), ("files", "c.png", b"not an image")]
    )
    refused = live.call(
        "POST", "/api/v1/progress-updates/", data=data, headers={**firm.api, "Content-Type": content_type}
    )
    assert "files" in error(refused, 400)["fields"]
    assert _count(firm, ProgressUpdate, worksite_id=worksite) == updates + 1
    assert _count(firm, ProgressMedia, update__worksite_id=worksite) == media + 1
    assert sorted(Path(live.media_root).rglob("*")) == files_before


def test_repair_request_create(live, live_db):
    from aftercare.models import RepairRequest

    firm, project = live.firm_a, live.firm_a.ids["project"]
    before = _count(firm, RepairRequest, project_id=project)
    body = {"project": project, "area": "bathroom", "description": "卫生间漏水"}
    created = live.call("POST", "/api/v1/repair-requests/", body=body, headers=firm.api)
    assert created.status == 201, created.body
    assert created.json()["source"] == "api"
    refused = live.call("POST", "/api/v1/repair-requests/", body={**body, "area": "garage"}, headers=firm.api)
    assert "area" in error(refused, 400)["fields"]
    assert _count(firm, RepairRequest, project_id=project) == before + 1


def test_callback_attempt_and_one_on_a_scheduled_callback(live, live_db):
    from callbacks.models import CallbackAttempt

    firm = live.firm_a
    reached = live.call(
        "POST", f"/api/v1/callbacks/{firm.ids['callback']}/attempt/", body={"outcome": "no_answer"}, headers=firm.api
    )
    assert reached.status == 200, reached.body
    assert reached.json()["attempts"] == 1
    scheduled = firm.ids["scheduled_callback"]
    refused = live.call(
        "POST", f"/api/v1/callbacks/{scheduled}/attempt/", body={"outcome": "reached"}, headers=firm.api
    )
    assert error(refused, 400)["code"] == "invalid"
    assert _count(firm, CallbackAttempt, callback_id=scheduled) == 0
    assert _count(firm, CallbackAttempt, callback_id=firm.ids["callback"]) == 1


def test_complaint_create_and_one_naming_another_customers_project(live, live_db):
    from complaints.models import Complaint

    firm, before = live.firm_a, _count(live.firm_a, Complaint)
    body = {"customer": firm.ids["customer"], "project": firm.ids["project"], "category": "quality"}
    body["description"] = "墙面开裂"
    created = live.call("POST", "/api/v1/complaints/", body=body, headers=firm.api)
    assert created.status == 201, created.body
    refused = live.call(
        "POST", "/api/v1/complaints/", body={**body, "customer": firm.ids["other_customer"]}, headers=firm.api
    )
    assert "project" in error(refused, 400)["fields"]
    assert _count(firm, Complaint) == before + 1


def test_refused_write_of_a_key_without_the_scope_writes_nothing(live, live_db):
    from leads.models import Lead
    from tests.factories import ApiKeyFactory

    firm = live.firm_a
    with tenant_context(firm.tenant):
        reader = ApiKeyFactory(name="reader", scopes=["leads:read"])
    before = _count(firm, Lead)
    body = {"name": "王先生", "mobile": "13912345671", "channel": "online"}
    refused = live.call("POST", LEADS, body=body, headers={"Authorization": f"Api-Key {reader.raw_key}"})
    assert error(refused, 403)["code"] == "permission_denied"
    assert _count(firm, Lead) == before
