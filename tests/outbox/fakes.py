"""Local stand-ins for Alibaba Cloud SMS, Tencent Cloud SMS and WeCom group robots: real HTTP servers on
127.0.0.1 that speak each provider's API as far as RenoCRM uses it, so the providers' real SDKs (and our
own HTTP for WeCom) are driven end to end without leaving the machine."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


class FakeServer:
    """A threaded HTTP server; ``handle(request) -> (status, dict)`` answers each POST (or GET)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": parts.path,
                    "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
                    "headers": {key.lower(): value for key, value in self.headers.items()},
                    "body": body,
                }
                with fake.lock:
                    fake.calls.append(request)
                status, answer = fake.handle(request)
                if answer is None:  # no answer at all: the connection is dropped
                    self.close_connection = True
                    return
                out = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_POST = _serve
            do_GET = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, request) -> tuple[int, dict | None]:
        raise NotImplementedError

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeAliyun(FakeServer):
    """Dysmsapi 2017-05-25: SendSms and QuerySendDetails (the SDK puts the action in ``x-acs-action`` and the
    parameters in the query string). ``send_codes``: the Code each SendSms answers in turn (then "OK"), with
    ``refusal_message`` as its Message; ``stall``: seconds SendSms takes after recording the message, to
    outlast the client's timeout; ``unlisted``: QuerySendDetails does not list the messages taken yet (as
    while the gateway's records lag behind)."""

    def __init__(self):
        super().__init__()
        self.send_codes: list[str] = []
        self.refusal_message = "refused"
        self.stall = 0.0
        self.unlisted = False
        self.sent: list[dict] = []  # what the gateway took: {biz_id, phone, out_id, template, params, date, status}
        self.http_error: tuple[int, dict] | None = None

    def action(self, request) -> str:
        return request["headers"].get("x-acs-action") or request["query"].get("Action", "")

    def sends(self) -> list[dict]:
        return [call for call in self.calls if self.action(call) == "SendSms"]

    def handle(self, request):
        if self.http_error is not None:
            return self.http_error
        action, query = self.action(request), request["query"]
        if action == "SendSms":
            code = self.send_codes.pop(0) if self.send_codes else "OK"
            if code != "OK":
                message = self.refusal_message.format(phone=query["PhoneNumbers"])
                return 200, {"Code": code, "Message": message, "RequestId": "req-1"}
            biz_id = f"{900000 + len(self.sent)}^0"
            self.sent.append(
                {
                    "biz_id": biz_id,
                    "phone": query["PhoneNumbers"],
                    "out_id": query.get("OutId", ""),
                    "template": query["TemplateCode"],
                    "params": json.loads(query.get("TemplateParam") or "{}"),
                    "date": datetime.now(CHINA),
                    "status": 1,
                    "err_code": "",
                }
            )
            if self.stall:
                time.sleep(self.stall)
            return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "req-2"}
        if action == "QuerySendDetails":
            rows = [
                message
                for message in self.sent
                if not self.unlisted
                and message["phone"] == query["PhoneNumber"]
                and message["date"].strftime("%Y%m%d") == query["SendDate"]
                and (not query.get("BizId") or message["biz_id"] == query["BizId"])
            ]
            details = [
                {
                    "PhoneNum": row["phone"],
                    "SendStatus": row["status"],
                    "ErrCode": row["err_code"] or ("DELIVERED" if row["status"] == 3 else ""),
                    "TemplateCode": row["template"],
                    "Content": "【美家装饰】…",
                    "SendDate": row["date"].strftime("%Y-%m-%d %H:%M:%S"),
                    "ReceiveDate": row["date"].strftime("%Y-%m-%d %H:%M:%S") if row["status"] != 1 else "",
                    "OutId": row["out_id"],
                }
                for row in rows
            ]
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "RequestId": "req-3",
                "TotalCount": len(details),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
            }
        return 404, {"Code": "InvalidAction.NotFound", "Message": action}


class FakeTencent(FakeServer):
    """SMS 2021-01-11: SendSms and PullSmsSendStatusByPhoneNumber (``X-TC-Action``, JSON bodies).
    ``send_codes``: each SendSms's per-number Code in turn (then "Ok"); ``error``: a top-level error code for
    the next request; ``stall`` as for FakeAliyun."""

    def __init__(self):
        super().__init__()
        self.send_codes: list[str] = []
        self.error: str = ""
        self.stall = 0.0
        self.sent: list[dict] = []
        self.reports: list[dict] = []  # the carrier's receipts, as PullSmsSendStatus items

    def sends(self) -> list[dict]:
        return [call for call in self.calls if call["headers"].get("x-tc-action") == "SendSms"]

    def handle(self, request):
        action = request["headers"].get("x-tc-action", "")
        body = json.loads(request["body"] or b"{}")
        if self.error:
            code, self.error = self.error, ""
            return 200, {"Response": {"Error": {"Code": code, "Message": "refused"}, "RequestId": "r-0"}}
        if action == "SendSms":
            code = self.send_codes.pop(0) if self.send_codes else "Ok"
            statuses = []
            for number in body["PhoneNumberSet"]:
                serial = f"2433:{338999 + len(self.sent)}" if code == "Ok" else ""
                if code == "Ok":
                    self.sent.append({"serial": serial, "phone": number, "context": body.get("SessionContext", "")})
                statuses.append(
                    {
                        "SerialNo": serial,
                        "PhoneNumber": number,
                        "Fee": 1 if code == "Ok" else 0,
                        "SessionContext": body.get("SessionContext", ""),
                        "Code": code,
                        "Message": "send success" if code == "Ok" else "refused",
                        "IsoCode": "CN",
                    }
                )
            if self.stall:
                time.sleep(self.stall)
            return 200, {"Response": {"SendStatusSet": statuses, "RequestId": "r-1"}}
        if action == "PullSmsSendStatusByPhoneNumber":
            items = [item for item in self.reports if item["PhoneNumber"] == body["PhoneNumber"]]
            return 200, {"Response": {"PullSmsSendStatusSet": items, "RequestId": "r-2"}}
        return 200, {"Response": {"Error": {"Code": "InvalidAction", "Message": action}, "RequestId": "r-3"}}

    def deliver(self, serial: str, *, ok: bool = True, description: str = "DELIVRD"):
        sent = next(item for item in self.sent if item["serial"] == serial)
        self.reports.append(
            {
                "UserReceiveTime": int(time.time()),
                "CountryCode": "86",
                "SubscriberNumber": sent["phone"][3:],
                "PhoneNumber": sent["phone"],
                "SerialNo": serial,
                "ReportStatus": "SUCCESS" if ok else "FAIL",
                "Description": description,
                "SessionContext": sent["context"],
            }
        )


class FakeWecom(FakeServer):
    """WeCom's group robot webhook: POST /cgi-bin/webhook/send?key=…; ``errcodes`` answer in turn (then 0)."""

    def __init__(self):
        super().__init__()
        self.errcodes: list[int] = []
        self.base = f"{self.url}/cgi-bin/webhook/send"

    def posts(self) -> list[dict]:
        return [
            {"key": call["query"].get("key"), **json.loads(call["body"])}
            for call in self.calls
            if call["path"] == "/cgi-bin/webhook/send"
        ]

    def handle(self, request):
        code = self.errcodes.pop(0) if self.errcodes else 0
        return 200, {"errcode": code, "errmsg": "ok" if code == 0 else "refused"}
