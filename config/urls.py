from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views
from exchange import internal
from exchange.monitoring.metrics import metrics_view
from exchange.web.operators import monitoring_view
from exchange.web.views import markets
from market.web import otp

urlpatterns = [
    path("", markets, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("internal/book/<str:symbol>/", internal.book_dump, name="internal-book"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/reconcile/", include("exchange.web.admin_urls")),
    path(
        "admin/monitoring/",
        admin.site.admin_view(monitoring_view),
        name="admin-monitoring",
    ),
    path("admin/", admin.site.urls),
    # The operators' second factor (config.middleware.StaffSecondFactorMiddleware).
    path("accounts/otp/", otp.otp_verify, name="otp-verify"),
    path("accounts/otp/setup/", otp.otp_setup, name="otp-setup"),
    path("catalogue/", include("market.urls")),
    path("", include("market.web.urls")),
    path("", include("exchange.web.urls")),
    path("", include("settlement.web.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # Split: its start-up script is a file too, which the CSP allows.
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("api/v1/", include("market.api.urls")),
    path("api/v1/", include("exchange.api.urls")),
    path("api/v1/", include("settlement.api.urls")),
    path("api/", views.api_not_found),
    path("api/<path:rest>", views.api_not_found),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
