from django.urls import path

from . import views

urlpatterns = [
    path("", views.hotspot_list, name="hotspot_list"),
    path("export/", views.hotspot_export, name="hotspot_export"),
    path("run/", views.hotspot_run, name="hotspot_run"),
    path("duplicates/", views.duplicate_panel, name="hotspot_duplicates"),
    path("<int:pk>/", views.hotspot_detail, name="hotspot_detail"),
]
