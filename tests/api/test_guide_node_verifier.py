"""The integration guide's Node.js webhook verifier (renocrm/api/guide/verify_signature.js), run by node
against signatures RenoCRM makes: the right secret and delivery id pass, anything else fails."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from renocrm.outbox.webhooks import signature_header

VERIFIER = Path(__file__).resolve().parents[2] / "renocrm" / "api" / "guide" / "verify_signature.js"
CHECK = """
const { verifySignature } = require(process.argv[1]);
const cases = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map((c) =>
  verifySignature(c.secret, c.header, Buffer.from(c.body, "utf8"), { deliveryId: c.deliveryId }))));
"""


def _verify(cases: list[dict]) -> list[bool]:
    run = subprocess.run(
        ["node", "-e", CHECK, str(VERIFIER)], input=json.dumps(cases), capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout)


def test_the_node_verifier_accepts_what_renocrm_signs_and_nothing_else():
    body = json.dumps({"id": 42, "type": "lead.created", "data": {"id": 7, "name": "王芳"}}, ensure_ascii=False)
    raw = body.encode()
    now = int(time.time())
    secret, delivery = "whsec_partner", "1234"
    header = signature_header([secret], raw, timestamp=now, delivery_id=delivery)
    rotating = signature_header(["whsec_new", secret], raw, timestamp=now, delivery_id=delivery)
    old = signature_header([secret], raw, timestamp=now - 3600, delivery_id=delivery)
    case = {"secret": secret, "header": header, "body": body, "deliveryId": delivery}
    assert _verify(
        [
            case,
            {**case, "deliveryId": ""},  # v1: the body alone
            {**case, "header": rotating},  # during a rotation either secret signs
            {**case, "secret": "whsec_someone_else"},
            {**case, "deliveryId": "1234-r1"},  # another delivery's id
            {**case, "body": body.replace("王芳", "李明")},
            {**case, "header": old},  # replayed an hour later
            {**case, "header": "t=abc,v2=00"},
        ]
    ) == [True, True, True, False, False, False, False, False]


@pytest.mark.django_db
def test_the_guide_shows_this_very_file(client, firm_a):
    from django.utils.html import escape

    from renocrm.tenancy.context import tenant_context
    from tests.factories import MembershipFactory

    with tenant_context(firm_a):
        admin = MembershipFactory(role="admin")
    client.force_login(admin.user)
    page = client.get("/integrations/guide/").content.decode()
    assert escape(VERIFIER.read_text(encoding="utf-8").strip()) in page
