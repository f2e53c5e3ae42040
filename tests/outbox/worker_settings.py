"""Settings of the real worker in the SMS drill (tests/outbox/test_sms_worker_drill.py): the test settings,
with the installation's texts going through Alibaba Cloud at the address of the test's local fake."""

import json
import os

from renocrm.settings.test import *  # noqa: F403

SMS_BACKEND = "aliyun"
SMS_ACCESS_KEY_ID, SMS_ACCESS_KEY_SECRET = "LTAI5tInstallation", "installation-secret"
SMS_SIGN_NAME = "装修云"
SMS_ENDPOINT = os.environ["DRILL_SMS_ENDPOINT"]
SMS_TIMEOUT_SECONDS = 60  # the worker is killed while it waits for the answer
SMS_TEMPLATES = json.loads(os.environ["DRILL_SMS_TEMPLATES"])
