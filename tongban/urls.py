from django.contrib import admin
from django.urls import include, path

admin.site.site_header = admin.site.site_title = "通办 系统管理"
admin.site.index_title = "基础数据"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("tongban.web.urls")),
]
