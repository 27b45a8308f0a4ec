from django.urls import path

from market.api import tokens, views

urlpatterns = [
    path("regions/", views.RegionListApi.as_view(), name="api-regions"),
    path("chips/", views.ChipListApi.as_view(), name="api-chips"),
    path("profiles/", views.ProfileListApi.as_view(), name="api-profiles"),
    path("conversion/", views.ConversionApi.as_view(), name="api-conversion"),
    path("surcharges/", views.SurchargeListApi.as_view(), name="api-surcharges"),
    path("auth/token/", tokens.TokenCreateApi.as_view(), name="api-token"),
    path("_bench/", tokens.BenchmarkApi.as_view(), name="api-bench"),
]
