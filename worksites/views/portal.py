"""The homeowner portal's pages (no account: a signed link) and the staff page of a worksite's links.

Portal pages run inside ``open_link``: the firm comes from the signed token, the row decides whether the
link still works, and every change is audited under ``portal-link:<id>``. A tampered or unknown link
answers 404, an expired or revoked one 410 — both with a page that says why and shows no project data.
Objects named in a portal URL are looked up within the link's worksite, so any other id is a 404.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts import documents as contract_documents
from renocrm.accounts.access import permission_required
from renocrm.clientip import client_ip
from renocrm.forms import page_action, submit
from renocrm.outbox.models import Notification
from renocrm.paging import before_param
from renocrm.privacy.masking import mask_recipient, may_see_contacts
from worksites import portal_tabs
from worksites.forms.portal import HomeownerNameForm, MaterialRejectForm, PortalLinkForm, SolutionChoiceForm
from worksites.models import Inspection, MaterialArrival, Phase, PortalLink, ProblemSolution, SiteProblem, Worksite
from worksites.selectors import handover as handover_selectors
from worksites.selectors import portal as selectors
from worksites.selectors import progress as progress_selectors
from worksites.services import portal as services

VIEW, MANAGE = "worksites.view", "worksites.manage"
NAME_KEY = "portal_name"
PROGRESS_PAGE_SIZE = 20


# Staff: the worksite's links ---------------------------------------------------------------------------------


@permission_required(VIEW, to_post=MANAGE)
def worksite_portal_links(request, pk):
    worksite = get_object_or_404(Worksite.objects.select_related("project__customer"), pk=pk)
    may_manage = request.membership.has_perm(MANAGE)
    sees_contacts = may_see_contacts(request)
    customer = worksite.project.customer
    initial = {"channel": Notification.Channel.SMS, "recipient": customer.mobile if sees_contacts else "", "days": 30}
    form = PortalLinkForm(request.POST or None, initial=initial)

    def issue(data):
        recipient = data["recipient"].strip()
        if data["channel"] == Notification.Channel.SMS and not recipient:
            recipient = customer.mobile
        return services.portal_link_issue(
            worksite=worksite,
            created_by=request.user,
            days=data["days"],
            channel=data["channel"],
            recipient=recipient,
            base_url=request.build_absolute_uri("/"),
        )

    if link := submit(request, form, issue):
        if form.cleaned_data["channel"]:
            messages.success(request, _("Link %(number)s created and sent.") % {"number": link.pk})
        else:
            messages.success(request, _("Link %(number)s created; copy it below.") % {"number": link.pk})
        return redirect("worksites:portal-links", pk=worksite.pk)
    links = selectors.portal_links(worksite=worksite)
    for link in links:
        link.url = request.build_absolute_uri(services.portal_link_url(link)) if link.is_usable else ""
        link.sent_to_display = link.sent_to if sees_contacts or not link.sent_to else mask_recipient(link.sent_to)
    actions, older = selectors.portal_action_page(worksite=worksite, before=before_param(request))
    context = {
        "worksite": worksite,
        "form": form,
        "links": links,
        "actions": actions,
        "older": older,
        "may_manage": may_manage,
    }
    return render(request, "worksites/portal_links.html", context)


@require_POST
@permission_required(MANAGE)
def portal_link_revoke(request, pk):
    link = get_object_or_404(PortalLink, pk=pk)
    return page_action(
        request,
        lambda: services.portal_link_revoke(link=link, revoked_by=request.user),
        done=_("Link %(number)s revoked; it stops working at once.") % {"number": link.pk},
        back=reverse("worksites:portal-links", args=[link.worksite_id]),
    )


# The homeowner's portal ------------------------------------------------------------------------------------------


def portal_client(request) -> dict:
    """Who acted, for the portal's audit trail: the address and the browser."""
    return {
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
    }


def portal_language(request, firm) -> str:
    """``?lang=`` if given, else the visitor's earlier choice (the language cookie), else the firm's own
    language. Returns the code chosen through ``?lang=`` (to remember in the cookie), or ""."""
    codes = dict(settings.LANGUAGES)
    chosen = request.GET.get("lang", "")
    chosen = chosen if chosen in codes else ""
    remembered = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    fallback = firm.language if firm is not None else translation.get_language()
    language = chosen or (remembered if remembered in codes else "") or fallback
    if language not in codes:
        language = settings.LANGUAGE_CODE
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return chosen


def portal_finish(response, chosen: str):
    if chosen:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            chosen,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
    # Personal data behind a bearer link: not cached by anyone, not indexed.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def portal_page(*methods):
    """Open the link named by ``token`` for the view, which receives the link instead of the token. The
    page's own links and redirects reuse the token it was opened with (``link.token``): a token signed
    again would differ from second to second, for nothing."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, token, **kwargs):
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            with services.open_link(token, **portal_client(request)) as (link, problem):
                if problem:
                    chosen = portal_language(request, None)
                    status = 410 if problem in services.GONE else 404
                    response = render(request, "portal/link_invalid.html", {"problem": problem}, status=status)
                    return portal_finish(response, chosen)
                link.token = token
                chosen = portal_language(request, link.tenant)
                # Dates and times on the pages in the firm's zone.
                timezone.activate(link.tenant.zone)
                try:
                    return portal_finish(view(request, link, **kwargs), chosen)
                finally:
                    timezone.deactivate()

        return wrapped

    return decorator


def portal_render(request, link, template, tab, **context):
    """Render a portal page: the link, its firm and project, and the tabs (the portal's and later stages')."""
    base = {
        "more_tabs": [(t.key, t.label, reverse(t.url_name, args=[link.token])) for t in portal_tabs.tabs()],
        "link": link,
        "token": link.token,
        "firm": link.tenant,
        "project": link.worksite.project,
        "tab": tab,
    }
    return render(request, template, {**base, **context})


def homeowner_name(request, link) -> str:
    """The name the visitor last signed with on this browser, else the customer's."""
    return request.session.get(NAME_KEY) or link.worksite.project.customer.name


def remember_homeowner(request, name: str) -> None:
    request.session[NAME_KEY] = name


@portal_page("GET", "HEAD")
def portal_home(request, link):
    home = selectors.portal_home(worksite=link.worksite)
    return portal_render(request, link, "portal/home.html", "home", home=home, name=homeowner_name(request, link))


@portal_page("GET", "HEAD")
def portal_progress(request, link):
    updates, older = progress_selectors.progress_feed(
        worksite=link.worksite, homeowner_view=True, before=before_param(request), size=PROGRESS_PAGE_SIZE
    )
    return portal_render(request, link, "portal/progress.html", "progress", updates=updates, older=older)


@portal_page("GET", "HEAD")
def portal_documents(request, link):
    documents = handover_selectors.handover_documents(worksite=link.worksite)
    signed = contract_documents.signed_copies_for_project(link.worksite.project)
    return portal_render(request, link, "portal/documents.html", "documents", documents=documents, signed=signed)


def _home(link) -> str:
    """Where a homeowner's action returns: the home page, at what waits for them."""
    return reverse("portal:home", args=[link.token]) + "#waiting"


def portal_object(request, queryset):
    """The record a portal form names (its ``object`` field), looked up in ``queryset``, which the caller
    limits to the link's worksite or project: any other id is a 404."""
    pk = request.POST.get("object", "")
    if not pk.isdigit():
        raise Http404
    return get_object_or_404(queryset, pk=int(pk))


def _named(request, link, model):
    return portal_object(request, model.objects.filter(worksite_id=link.worksite_id))


# A homeowner's action goes through with the name they signed with, remembered for the next one.


@portal_page("POST")
def portal_phase_accept(request, link):
    phase = _named(request, link, Phase)

    def accept(data):
        services.portal_phase_accept(link=link, phase=phase, name=data["name"], **portal_client(request))
        remember_homeowner(request, data["name"])

    done = _("Thank you — %(phase)s is accepted.") % {"phase": phase.name}
    return page_action(request, accept, form=HomeownerNameForm(request.POST), done=done, back=_home(link))


@portal_page("POST")
def portal_inspection_sign(request, link):
    inspection = _named(request, link, Inspection)

    def sign(data):
        services.portal_inspection_sign(link=link, inspection=inspection, name=data["name"], **portal_client(request))
        remember_homeowner(request, data["name"])

    done = _("Thank you — your signature on the %(inspection)s is recorded.") % {"inspection": inspection}
    return page_action(request, sign, form=HomeownerNameForm(request.POST), done=done, back=_home(link))


@portal_page("POST")
def portal_material_accept(request, link):
    arrival = _named(request, link, MaterialArrival)

    def accept(data):
        services.portal_material_accept(link=link, arrival=arrival, name=data["name"], **portal_client(request))
        remember_homeowner(request, data["name"])

    done = _("Thank you — you accepted %(material)s.") % {"material": arrival.material}
    return page_action(request, accept, form=HomeownerNameForm(request.POST), done=done, back=_home(link))


@portal_page("POST")
def portal_material_reject(request, link):
    arrival = _named(request, link, MaterialArrival)

    def reject(data):
        services.portal_material_reject(
            link=link, arrival=arrival, name=data["name"], reason=data["reason"], **portal_client(request)
        )
        remember_homeowner(request, data["name"])

    done = _("Your rejection of %(material)s is sent to the crew.") % {"material": arrival.material}
    return page_action(request, reject, form=MaterialRejectForm(request.POST), done=done, back=_home(link))


@portal_page("POST")
def portal_problem_choose(request, link):
    problem = _named(request, link, SiteProblem)
    form = SolutionChoiceForm(request.POST)
    solution = None
    if form.is_valid():
        solution = get_object_or_404(ProblemSolution, pk=form.cleaned_data["solution"], problem=problem)

    def choose(data):
        services.portal_solution_choose(
            link=link, problem=problem, solution=solution, name=data["name"], **portal_client(request)
        )
        remember_homeowner(request, data["name"])

    done = _("Thank you — your choice for “%(problem)s” is recorded.") % {"problem": problem.title}
    return page_action(request, choose, form=form, done=done, back=_home(link))
