"""A homeowner's survey-link text as the SMS tests send it, and one attempt at sending a message."""

from renocrm.outbox import services
from renocrm.outbox.models import Notification

MOBILE = "13800138000"
SURVEY = {
    "customer_name": "王先生",
    "firm_name": "美家装饰",
    "agent_name": "李客服",
    "firm_phone": "400-800-1234",
    "survey_link": "https://crm.example.cn/portal/survey/abc/",
}


def survey_text(key="callback:7:sms:0", **overrides) -> Notification:
    return services.notification_send(
        channel=Notification.Channel.SMS,
        recipient=overrides.pop("recipient", MOBILE),
        body="王先生您好，美家装饰回访：https://crm.example.cn/portal/survey/abc/",
        idempotency_key=key,
        sms_template=overrides.pop("template", "callbacks.survey_link"),
        sms_params=overrides.pop("params", SURVEY),
    )


def deliver(notification: Notification) -> Notification:
    """One attempt (what ``deliver_notification`` does), and the message as it stands after it."""
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    return notification
