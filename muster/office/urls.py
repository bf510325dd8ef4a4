from django.urls import path

from muster.exchange.views import exchange_page

from . import campaign_views, review_views, summons_views, views

app_name = "office"
urlpatterns = [
    path("", views.search, name="search"),
    path("persons/<str:national_id>/", views.person_card, name="person"),
    path("persons/<str:national_id>/summonses/", summons_views.issue, name="issue"),
    path("summonses/<str:number>/<str:action>/", summons_views.act, name="summons_action"),
    path("campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_views.campaign_prepare, name="campaign_prepare"),
    path("campaigns/<int:campaign_id>/", campaign_views.campaign_detail, name="campaign"),
    path(
        "campaigns/<int:campaign_id>/approve/",
        campaign_views.campaign_approve,
        name="campaign_approve",
    ),
    path("campaigns/<int:campaign_id>/issue/", campaign_views.campaign_issue, name="campaign_issue"),
    path("campaigns/clarification/", campaign_views.clarification_launch, name="clarification"),
    path("reviews/", review_views.queue, name="reviews"),
    path("reviews/<int:item_id>/", review_views.item, name="review"),
    path("exchange/", exchange_page, name="exchange"),
]
