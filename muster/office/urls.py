from django.urls import path

from . import views

app_name = "office"
urlpatterns = [
    path("", views.search, name="search"),
    path("persons/<str:national_id>/", views.person_card, name="person"),
]
