"""API authentication: exchange a username and password for the user's API token (issue 9, item 7).

`POST /api/v1/auth/token/ {"username", "password"}` -> `{"token"}`; send it after as `Authorization: Token <token>`.
Wrong credentials answer 400 without saying which part was wrong; an inactive user gets no token.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ValidationError


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenView(APIView):
    authentication_classes: list[type] = []  # credentials are in the body; no session, so no CSRF either
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, summary="Get your API token")
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate(request._request, username=form.validated_data["username"],
                            password=form.validated_data["password"])
        if user is None or not user.is_active:
            raise ValidationError("wrong username or password")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
