"""Account URLs. Not namespaced: `login` and `logout` are the names Django's
settings (LOGIN_URL) and the base layout use."""

from django.urls import path

from market.web import notifications, passwords, views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/settings/", views.account_settings, name="account-settings"),
    path(
        "accounts/password/",
        passwords.PasswordChangeView.as_view(),
        name="password-change",
    ),
    path(
        "accounts/password/reset/",
        passwords.PasswordResetView.as_view(),
        name="password-reset",
    ),
    path(
        "accounts/password/reset/sent/",
        passwords.PasswordResetSentView.as_view(),
        name="password-reset-sent",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("accounts/api-keys/", views.api_keys, name="api-keys"),
    path(
        "accounts/api-keys/<int:key_id>/revoke/",
        views.api_key_revoke,
        name="api-key-revoke",
    ),
    path(
        "accounts/notifications/",
        notifications.notifications,
        name="notifications",
    ),
    path(
        "accounts/notifications/secret/",
        notifications.notifications_secret,
        name="notifications-secret",
    ),
    path("accounts/clusters/", views.clusters, name="clusters"),
    path("accounts/clusters/preview/", views.cluster_preview, name="cluster-preview"),
]
