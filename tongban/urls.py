from django.contrib import admin
from django.urls import include, path

from tongban.api.api import api

admin.site.site_header = admin.site.site_title = "通办 系统管理"
admin.site.index_title = "基础数据"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("kb/", include("tongban.knowledge.urls")),
    path("hotspots/", include("tongban.hotspots.urls")),
    path("notify/", include("tongban.notify.urls")),
    path("p/", include("tongban.portal.urls")),
    path("open311/v2/", include("tongban.open311.urls")),
    path("catalog/", include("tongban.catalog.urls")),
    path("hall/", include("tongban.hall.urls")),
    path("account/", include("tongban.accounts.urls")),
    path("audit/", include("tongban.audit.urls")),
    path("", include("tongban.web.urls")),
]
