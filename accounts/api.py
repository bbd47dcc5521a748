"""API authentication: exchange a username and password for a new API token (issue 9, item 7; issue 8, item 12).

`POST /api/v1/auth/token/ {"username", "password"}` -> `{"token", "expires_at"}`; send it after as
`Authorization: Token <token>`. Each call issues a new token (only its hash is stored, so an old one cannot be
shown again); earlier tokens stay valid until they expire or are revoked on the "API token" page. Wrong
credentials answer 400 without saying which part was wrong; too many failures from one address answer 429; an
inactive user or one whose role has no API gets no token. Annotators do get one: the annotation API (next item,
submit) is how scripted and assistive clients annotate.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import client_address
from accounts.models import ApiToken
from accounts.services import login_failure_record, login_failures_clear, login_locked, token_issue
from core.errors import ValidationError


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TokenView(APIView):
    authentication_classes: list[type] = []  # credentials are in the body; no session, so no CSRF either
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, summary="Get an API token")
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        username = form.validated_data["username"]
        address = client_address(request._request)
        if login_locked(username, address):
            login_failure_record(username, address)
            raise Throttled(wait=settings.LOGIN_FAILURE_WINDOW_SECONDS,
                            detail="too many failed attempts for this username; try again later")
        user = authenticate(request._request, username=username, password=form.validated_data["password"])
        if user is None or not user.is_active:
            raise ValidationError("wrong username or password")
        login_failures_clear(username, address)
        key = token_issue(user)
        token = ApiToken.objects.get(prefix=key[:12])
        return Response({"token": key, "expires_at": token.expires_at})
