from django.urls import path

from muster.exchange.views import exchange_page

from . import review_views, views

app_name = "office"
urlpatterns = [
    path("", views.search, name="search"),
    path("persons/<str:national_id>/", views.person_card, name="person"),
    path("reviews/", review_views.queue, name="reviews"),
    path("reviews/<int:item_id>/", review_views.item, name="review"),
    path("exchange/", exchange_page, name="exchange"),
]
