from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="catalog_home"),
    path("packages/", views.package_list, name="catalog_packages"),
    path("savings/", views.savings_page, name="catalog_savings"),
    path("export.xlsx", views.export, name="catalog_export"),
    path("import/", views.import_page, name="catalog_import"),
    path("items/<str:code>/", views.item_detail, name="catalog_item"),
    path("packages/<str:code>/", views.package_detail, name="catalog_package"),
    # public 办事指南 (no login)
    path("guide/", views.guide_index, name="catalog_guide_index"),
    path("guide/package/<str:code>/", views.guide_package, name="catalog_guide_package"),
    path("guide/package/<str:code>/notice.pdf", views.package_pdf, name="catalog_package_pdf"),
    path("guide/<str:code>/", views.guide_item, name="catalog_guide"),
    path("guide/<str:code>/notice.pdf", views.item_pdf, name="catalog_item_pdf"),
]
