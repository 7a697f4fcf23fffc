from django.contrib import admin
from django.urls import include, path

from tongban.api.api import api

admin.site.site_header = admin.site.site_title = "通办 系统管理"
admin.site.index_title = "基础数据"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("kb/", include("tongban.knowledge.urls")),
    path("", include("tongban.web.urls")),
]
