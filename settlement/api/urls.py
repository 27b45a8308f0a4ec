from django.urls import path, re_path

from settlement.api import views

TRADE = r"(?P<trade_id>[0-9]{1,18})"

urlpatterns = [
    path("account/", views.AccountApi.as_view(), name="api-account"),
    path("account/ledger/", views.LedgerApi.as_view(), name="api-ledger"),
    path(
        "account/withdrawals/",
        views.WithdrawalListApi.as_view(),
        name="api-withdrawals",
    ),
    path("deliveries/", views.DeliveryListApi.as_view(), name="api-deliveries"),
    path("providers/", views.ProviderListApi.as_view(), name="api-providers"),
    re_path(
        rf"^deliveries/{TRADE}/report/$",
        views.DeliveryReportApi.as_view(),
        name="api-delivery-report",
    ),
    re_path(
        rf"^deliveries/{TRADE}/confirm/$",
        views.DeliveryConfirmApi.as_view(),
        name="api-delivery-confirm",
    ),
    re_path(
        rf"^deliveries/{TRADE}/dispute/$",
        views.DeliveryDisputeApi.as_view(),
        name="api-delivery-dispute",
    ),
]
