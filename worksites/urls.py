"""Staff pages."""

from django.urls import path

from worksites.views import gates, handover, inspections, media, portal, progress, schedule

app_name = "worksites"

urlpatterns = [
    # The schedule: worksites, their phases, crew and technical handover, the firm's template.
    path("", schedule.worksite_list, name="list"),
    path("board/", schedule.worksite_board, name="board"),
    path("template/", schedule.template_edit, name="template"),
    path("<int:pk>/", schedule.worksite_detail, name="detail"),
    path("<int:pk>/crew/", schedule.crew_edit, name="crew"),
    path("<int:pk>/gates/lift/", gates.gate_lift, name="gate-lift"),
    path("construction-settings/", gates.construction_settings_edit, name="construction-settings"),
    path("<int:pk>/technical-handover/", schedule.technical_handover_create, name="technical-handover"),
    *[
        path(f"phases/<int:pk>/{action}/", schedule.phase_action, {"action": action}, name=f"phase-{action}")
        for action in ("start", "complete", "accept")
    ],
    # Progress updates.
    path("<int:pk>/progress/", progress.worksite_progress, name="progress"),
    path("progress-updates/<int:pk>/visibility/", progress.progress_visibility, name="progress-visibility"),
    # Inspections, material arrivals, site patrols and site problems.
    path("<int:pk>/site/", inspections.site_log, name="site"),
    path("<int:pk>/inspections/new/", inspections.inspection_create, name="inspection-create"),
    path("inspections/<int:pk>/sign/", inspections.inspection_sign, name="inspection-sign"),
    path("inspections/<int:pk>/result/", inspections.inspection_result, name="inspection-result"),
    path(
        "inspections/<int:pk>/circuit-diagram/",
        inspections.inspection_circuit_diagram,
        name="inspection-circuit-diagram",
    ),
    path("<int:pk>/materials/new/", inspections.material_create, name="material-create"),
    path("materials/<int:pk>/sign/", inspections.material_sign, name="material-sign"),
    path("materials/<int:pk>/reject/", inspections.material_reject, name="material-reject"),
    path("<int:pk>/patrols/new/", inspections.patrol_create, name="patrol-create"),
    path("<int:pk>/problems/new/", inspections.problem_create, name="problem-create"),
    path("problems/<int:pk>/choose/", inspections.problem_choose, name="problem-choose"),
    path("problems/<int:pk>/resolve/", inspections.problem_resolve, name="problem-resolve"),
    path("problems/<int:pk>/media/", media.problem_media_add, name="problem-media"),
    path("inspections/<int:pk>/media/", media.inspection_media_add, name="inspection-media"),
    # Handover.
    path("<int:pk>/handover/", handover.worksite_handover, name="handover"),
    path("<int:pk>/handover/start/", handover.handover_start, name="handover-start"),
    path("handovers/<int:pk>/complete/", handover.handover_complete, name="handover-complete"),
    path("handovers/<int:pk>/documents/", handover.handover_document_add, name="handover-document-add"),
    path(
        "handovers/<int:pk>/rectification-items/",
        handover.rectification_item_create,
        name="rectification-item-create",
    ),
    path("acceptance-items/<int:pk>/check/", handover.acceptance_item_check, name="acceptance-item-check"),
    path("rectification-items/", handover.rectification_item_list, name="rectification-items"),
    path("rectification-items/<int:pk>/fixed/", handover.rectification_item_fixed, name="rectification-item-fixed"),
    path(
        "rectification-items/<int:pk>/recheck/",
        handover.rectification_item_recheck,
        name="rectification-item-recheck",
    ),
    path("acceptance-template/", handover.acceptance_template_edit, name="acceptance-template"),
    # The homeowner portal's links.
    path("<int:pk>/portal-links/", portal.worksite_portal_links, name="portal-links"),
    path("portal-links/<int:pk>/revoke/", portal.portal_link_revoke, name="portal-link-revoke"),
]
