from django.urls import path

from market.api import views

urlpatterns = [
    path("regions/", views.RegionListApi.as_view(), name="api-regions"),
    path("chips/", views.ChipListApi.as_view(), name="api-chips"),
    path("profiles/", views.ProfileListApi.as_view(), name="api-profiles"),
    path("conversion/", views.ConversionApi.as_view(), name="api-conversion"),
    path("surcharges/", views.SurchargeListApi.as_view(), name="api-surcharges"),
]
