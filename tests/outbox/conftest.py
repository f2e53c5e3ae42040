"""The SMS tests' gateways: the installation's account on a local fake of Alibaba Cloud or Tencent Cloud."""

import pytest

from renocrm.tenancy.context import tenant_context
from tests.outbox.fakes import FakeAliyun, FakeTencent


@pytest.fixture
def aliyun(settings):
    fake = FakeAliyun()
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = "LTAI5tInstallation", "installation-secret"
    settings.SMS_SIGN_NAME = "装修云"
    settings.SMS_ENDPOINT = fake.url
    settings.SMS_TIMEOUT_SECONDS = 1
    settings.SMS_TEMPLATES = {
        "callbacks.survey_link": {"code": "SMS_465300001", "params": {"name": "customer_name", "link": "survey_link"}},
        "staff.notice": {"code": "SMS_465300009", "params": {}},
        "staff.password_reset": {"code": "SMS_465300011", "params": {}},
        "staff.invitation": {"code": "SMS_465300012", "params": {}},
    }
    yield fake
    fake.close()


@pytest.fixture
def tencent(settings):
    fake = FakeTencent()
    settings.SMS_BACKEND = "tencent"
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = "AKIDinstallation0000", "installation-secret"
    settings.SMS_SIGN_NAME = "装修云"
    settings.SMS_APP_ID = "1400006666"
    settings.SMS_ENDPOINT = fake.url
    settings.SMS_TIMEOUT_SECONDS = 1
    settings.SMS_TEMPLATES = {
        "callbacks.survey_link": {"code": "1968001", "params": {"1": "customer_name", "2": "survey_link"}},
    }
    yield fake
    fake.close()


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a
