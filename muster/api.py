"""The JSON API under /api/ (django-ninja), with its OpenAPI document at /api/openapi.json."""

from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from muster.accounts.services import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="muster",
    version="1",
    description="Military registration and electronic call-up. Authenticate with a session "
    "or `Authorization: Bearer TOKEN` (`muster user token USERNAME`).",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
)


@api.get("/persons/{national_id}", tags=["registry"], summary="The golden record as the caller may see it")
def get_person(request, national_id: str):
    from muster.registry import services

    person = services.read_person(
        request.auth, national_id, now=timezone.now(), channel="api", purpose=request.headers.get("X-Purpose", "")[:200]
    )
    return services.person_record(person)


@api.get(
    "/persons/{national_id}/decision",
    tags=["rights"],
    summary="The decision on the person's rights today, with its explanation and citations",
)
def get_decision(request, national_id: str):
    from muster.registry import services
    from muster.rules.services import explain

    person = services.read_person(
        request.auth, national_id, now=timezone.now(), channel="api", purpose=request.headers.get("X-Purpose", "")[:200]
    )
    return explain(person, timezone.localdate())
