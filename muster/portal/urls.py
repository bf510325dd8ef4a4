from django.urls import path

from . import summons_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("my/record/", views.my_record, name="my_record"),
    path("my/decision/", summons_views.my_decision, name="decision"),
    path("my/decision/contest/", summons_views.contest, name="contest"),
    path("my/summonses/", summons_views.my_summonses, name="summonses"),
    path("my/summonses/<str:number>/pdf/", summons_views.summons_pdf, name="summons_pdf"),
    path(
        "my/clarifications/<int:request_id>/",
        summons_views.clarification_request,
        name="clarification",
    ),
]
