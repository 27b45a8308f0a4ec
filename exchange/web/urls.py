from django.urls import path

from exchange.web import advisor, streams, views

app_name = "trading"

urlpatterns = [
    path("markets/<str:symbol>/", views.instrument, name="instrument"),
    path("markets/<str:symbol>/book/", views.instrument_book, name="book"),
    path("markets/<str:symbol>/trades/", views.instrument_trades, name="trades"),
    path(
        "markets/<str:symbol>/candles.json",
        views.instrument_candles,
        name="candles",
    ),
    path(
        "markets/<str:symbol>/ticket/<str:side>/preview/",
        views.ticket_preview,
        name="ticket-preview",
    ),
    path(
        "markets/<str:symbol>/ticket/<str:side>/",
        views.ticket_submit,
        name="ticket-submit",
    ),
    path("trade/orders/", views.orders, name="orders"),
    path("trade/orders/<int:order_id>/", views.order_detail, name="order"),
    path(
        "trade/orders/<int:order_id>/cancel/",
        views.order_cancel_view,
        name="order-cancel",
    ),
    path(
        "trade/orders/cancel-all/",
        views.orders_cancel_all_view,
        name="orders-cancel-all",
    ),
    path("trade/fills/", views.fills, name="fills"),
    path("trade/stream/", streams.my_stream, name="my-stream"),
    path("trade/capacity/", views.capacity, name="capacity"),
    path("trade/clusters/<int:cluster_id>/", views.cluster_edit, name="cluster"),
    path("index/<slug:profile>/", views.index_page, name="index"),
    path("advisor/", advisor.advisor_page, name="advisor"),
    path("monitoring/", views.monitoring, name="monitoring"),
]
