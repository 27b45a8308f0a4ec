from django.urls import path

from market import views

app_name = "market"

urlpatterns = [
    path("chips/", views.chip_catalogue, name="chips"),
    path("regions/", views.regions, name="regions"),
    path("move-west/", views.move_west, name="move-west"),
]
