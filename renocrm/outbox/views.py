"""The firm admin's notice settings page: the SMS gateway, signature, credentials and approved templates, the
WeCom group robots, and the latest texts with their receipts. Credentials and robot keys are never sent back
to the browser: only masked, and the answers are not cached."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import submit

from . import notice_settings, selectors
from .forms import NoticeSettingsForm, WecomRobotForm
from .models import NoticeSettings, WecomRobot
from .sms_gateways import has_own_account, installation_provider
from .wecom import masked_url

MANAGE = "integrations.manage"


def _page(request, template: str, context: dict, *, status: int = 200):
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


@permission_required(MANAGE)
def notice_settings_page(request):
    saved = selectors.notice_settings_get()
    masked_key = notice_settings.masked_credential(saved.access_key_id)
    form = NoticeSettingsForm(request.POST if request.method == "POST" else None, saved=saved, masked_key=masked_key)
    if submit(request, form, lambda data: notice_settings.notice_settings_update(**form.service_kwargs())):
        messages.success(request, _("Notice settings saved."))
        return redirect("outbox:notice-settings")
    installed = installation_provider()
    robots = list(selectors.wecom_robot_list())
    for robot in robots:
        robot.masked_url = masked_url(robot.webhook_url)
        robot.kind_labels = [WecomRobot.Kind(kind).label for kind in robot.kinds]
    context = {
        "form": form,
        "installation_provider": NoticeSettings.Provider(installed).label if installed else _("none (test backend)"),
        "own_account": has_own_account(saved),
        "robots": robots,
        "recent_texts": selectors.recent_texts(),
    }
    return _page(request, "outbox/notice_settings.html", context)


@permission_required(MANAGE)
def robot_create(request):
    form = WecomRobotForm(request.POST if request.method == "POST" else None)
    robot = submit(request, form, lambda data: notice_settings.wecom_robot_create(**data))
    if robot:
        messages.success(request, _("Robot %(name)s added.") % {"name": robot.name})
        return redirect("outbox:notice-settings")
    return _page(request, "outbox/robot_form.html", {"form": form, "title": _("New WeCom group robot")})


@permission_required(MANAGE)
def robot_edit(request, pk):
    robot = get_object_or_404(WecomRobot, pk=pk)
    form = WecomRobotForm(
        request.POST if request.method == "POST" else None, robot=robot, masked_url=masked_url(robot.webhook_url)
    )
    if submit(request, form, lambda data: notice_settings.wecom_robot_update(robot=robot, **data)):
        messages.success(request, _("Robot %(name)s saved.") % {"name": robot.name})
        return redirect("outbox:notice-settings")
    return _page(request, "outbox/robot_form.html", {"form": form, "robot": robot, "title": robot.name})


@permission_required(MANAGE)
@require_POST
def robot_delete(request, pk):
    robot = get_object_or_404(WecomRobot, pk=pk)
    notice_settings.wecom_robot_delete(robot=robot)
    messages.success(request, _("Robot %(name)s removed.") % {"name": robot.name})
    return redirect("outbox:notice-settings")


@permission_required(MANAGE)
@require_POST
def robot_test(request, pk):
    robot = get_object_or_404(WecomRobot, pk=pk)
    notice_settings.wecom_robot_test(robot=robot)
    messages.success(request, _("A test message is on its way to %(name)s's group.") % {"name": robot.name})
    return redirect("outbox:notice-settings")
