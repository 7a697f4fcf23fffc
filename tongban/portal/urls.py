from django.urls import path

from . import views

urlpatterns = [
    path("", views.submit, name="portal_home"),
    path("r/<str:number>/", views.receipt, name="portal_receipt"),
    path("track/", views.track, name="portal_track"),
    path("track/rate/", views.rate, name="portal_rate"),
    path("track/<str:number>/photo/<int:pk>", views.photo, name="portal_photo"),
    path("elder/", views.elder, name="portal_elder"),
    path("book/", views.book, name="portal_book"),
    path("book/done/", views.book_done, name="portal_book_done"),
    path("book/cancel/", views.book_cancel, name="portal_book_cancel"),
    path("d/<str:token>", views.submit, name="portal_plate"),
    path("plates/", views.plates, name="portal_plates"),
    path("plates/<int:pk>/", views.plates_village, name="portal_plates_village"),
    path("plates/<int:pk>/pdf", views.plates_pdf, name="portal_plates_pdf"),
]
