from django.urls import path

from settlement.web import views

app_name = "funds"

urlpatterns = [
    path("funds/", views.balances, name="balances"),
    path("funds/ledger/", views.ledger, name="ledger"),
    path("funds/ledger.csv", views.ledger_csv, name="ledger-csv"),
    path("funds/deposit/", views.deposit, name="deposit"),
    path("funds/withdraw/", views.withdraw, name="withdraw"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("providers/", views.providers, name="providers"),
    path(
        "deliveries/<int:trade_id>/report/",
        views.delivery_report,
        name="delivery-report",
    ),
    path(
        "deliveries/<int:trade_id>/confirm/",
        views.delivery_confirm,
        name="delivery-confirm",
    ),
    path(
        "deliveries/<int:trade_id>/dispute/",
        views.delivery_dispute,
        name="delivery-dispute",
    ),
]
