from django.urls import path

from . import views

urlpatterns = [
    path("", views.article_list, name="kb_list"),
    path("export/", views.article_export, name="kb_export"),
    path("import/", views.article_import, name="kb_import"),
    path("new/", views.article_edit, name="kb_new"),
    path("review/", views.review_due, name="kb_review"),
    path("suggest/", views.suggest, name="kb_suggest"),
    path("use/", views.use, name="kb_use"),
    path("<int:pk>/", views.article_detail, name="kb_article"),
    path("<int:pk>/edit/", views.article_edit, name="kb_edit"),
    path("<int:pk>/move/", views.article_move, name="kb_move"),
    path("public/", views.public_search, name="kb_public"),
    path("public/<int:pk>/", views.public_article, name="kb_public_article"),
]
