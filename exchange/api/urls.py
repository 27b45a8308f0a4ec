from django.urls import path, re_path

from exchange.api import streams, time_views, trading, views

SYMBOL = r"(?P<symbol>[A-Za-z0-9._-]{1,64})"
ID = r"[0-9]{1,18}"

urlpatterns = [
    path("instruments/", views.InstrumentListApi.as_view(), name="api-instruments"),
    re_path(
        rf"^instruments/{SYMBOL}/$",
        views.InstrumentDetailApi.as_view(),
        name="api-instrument",
    ),
    re_path(rf"^instruments/{SYMBOL}/book/$", views.BookApi.as_view(), name="api-book"),
    re_path(
        rf"^instruments/{SYMBOL}/trades/$",
        views.TradeListApi.as_view(),
        name="api-trades",
    ),
    re_path(
        rf"^instruments/{SYMBOL}/candles/$",
        views.CandleApi.as_view(),
        name="api-candles",
    ),
    path(
        "prices/locational/",
        views.LocationalPriceApi.as_view(),
        name="api-locational",
    ),
    path("index/", views.IndexApi.as_view(), name="api-index"),
    path("stream/market/", streams.MarketStreamApi.as_view(), name="api-stream-market"),
    path(
        "stream/private/",
        streams.PrivateStreamApi.as_view(),
        name="api-stream-private",
    ),
    path("forward/", time_views.ForwardApi.as_view(), name="api-forward"),
    path("advisor/", time_views.AdvisorApi.as_view(), name="api-advisor"),
    path("orders/", trading.OrderListApi.as_view(), name="api-orders"),
    path("orders/batch/", trading.OrderBatchApi.as_view(), name="api-orders-batch"),
    path(
        "orders/preview/",
        trading.OrderPreviewApi.as_view(),
        name="api-orders-preview",
    ),
    re_path(
        rf"^orders/(?P<order_id>{ID})/$",
        trading.OrderDetailApi.as_view(),
        name="api-order",
    ),
    path("fills/", trading.FillListApi.as_view(), name="api-fills"),
    path("clusters/", trading.ClusterListApi.as_view(), name="api-clusters"),
    re_path(
        rf"^clusters/(?P<cluster_id>{ID})/$",
        trading.ClusterDetailApi.as_view(),
        name="api-cluster",
    ),
]
