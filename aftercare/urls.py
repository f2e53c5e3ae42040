"""Staff pages."""

from django.urls import path

from aftercare import views

app_name = "aftercare"

urlpatterns = [
    path("", views.repair_list, name="list"),
    path("repairs/new/", views.repair_create, name="repair-new"),
    path("repairs/<int:pk>/", views.repair_detail, name="repair"),
    *[
        path(f"repairs/<int:pk>/{action}/", views.repair_action, {"action": action}, name=f"repair-{action}")
        for action in views.REPAIR_ACTIONS
    ],
    path("projects/<int:pk>/", views.project_aftercare, name="project"),
    path("projects/<int:pk>/warranty-card/issue/", views.warranty_card_issue, name="warranty-card-issue"),
    path("warranty-cards/<int:pk>/", views.warranty_card, name="warranty-card"),
    path("projects/<int:pk>/coverages/new/", views.coverage_create, name="coverage-new"),
    path("coverages/<int:pk>/edit/", views.coverage_edit, name="coverage-edit"),
    path("coverages/expiring/", views.coverages_expiring, name="expiring"),
    path("customers/<int:pk>/opt-out/", views.care_opt_out, name="opt-out"),
    path("customers/<int:pk>/opt-in/", views.care_opt_in, name="opt-in"),
    path("rules/", views.coverage_rules, name="rules"),
    path("settings/", views.aftercare_settings, name="settings"),
    path("referral-rewards/", views.referral_rewards, name="referral-rewards"),
    path("referral-rewards/<int:pk>/fulfil/", views.referral_reward_fulfilled, name="referral-reward-fulfil"),
]
