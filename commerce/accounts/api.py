"""Auth, account and shopper-session endpoints (CONTRACT.md section 2: Auth, Sessions)."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts.errors import SessionNotFound, WeakPassword
from commerce.accounts.models import ShopperSession, User, validate_timezone
from commerce.accounts.selectors import (
    shopper_session_usable_by,
)
from commerce.accounts.services import (
    account_update,
    refresh_token_revoke,
    shopper_session_create,
    shopper_session_end,
    shopper_sign_in,
    user_authenticate,
    user_change_password,
    user_register,
    user_sign_out_everywhere,
)
from commerce.accounts.shoppers import ShopperAPIMixin, shopper_from_api
from commerce.errors import DomainError
from commerce.fields import JSONBooleanField, TextField
from commerce.openapi import error_response, link, response_links


class UserOut(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()


class AuthOut(serializers.Serializer):
    user = UserOut()
    accessToken = serializers.CharField()
    refreshToken = serializers.CharField()
    sessionId = serializers.CharField()


class RegisterIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = TextField(max_length=128, trim_whitespace=False)
    name = TextField(max_length=150, required=False, allow_blank=True, default="")


class LoginIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = TextField(max_length=128, trim_whitespace=False)


def _auth_payload(user: User, session: ShopperSession) -> dict:
    refresh = RefreshToken.for_user(user)
    return {
        "user": {"id": str(user.pk), "email": user.email, "name": user.name},
        "accessToken": str(refresh.access_token),
        "refreshToken": str(refresh),
        "sessionId": session.key,
    }


def _guest_session(request) -> ShopperSession | None:
    """The caller's guest session, if it sent one; an unknown id merges nothing rather than failing."""
    try:
        return shopper_from_api(request).session
    except SessionNotFound:
        return None


# What a session id in an answer (``sessionId``) opens: the session itself, its cart and conversation.
_SESSION = "$response.body#/sessionId"
SESSION_LINKS = {
    "GetSession": link("session_get", parameters={"session_id": _SESSION}),
    "EndSession": link("session_end", parameters={"session_id": _SESSION}),
    "GetCart": link("cart_get", parameters={"header.X-Session-Id": _SESSION}),
    "History": link("interactions_history", parameters={"query.sessionId": _SESSION}),
}
_REFRESH_BODY = {"refreshToken": "$response.body#/refreshToken"}
# A sign-in's tokens: refresh them, sign out with them; and its session.
SIGNED_IN_LINKS = {
    **SESSION_LINKS,
    "Refresh": link("auth_refresh", body=_REFRESH_BODY),
    "SignOut": link("auth_logout", body=_REFRESH_BODY),
}

_WEAK_PASSWORD = error_response(
    "`weak_password`: Django's password validators refuse it (`details.fields` says why)."
)
_RATE_LIMITED = OpenApiResponse(
    description="Too many failed attempts for this account or address: `rate_limited`, with `Retry-After`.",
)


class RegisterView(APIView):
    authentication_classes: list = []

    @extend_schema(
        request=RegisterIn,
        responses={
            201: AuthOut,
            409: error_response("`email_taken`."),
            422: _WEAK_PASSWORD,
            429: _RATE_LIMITED,
        },
        tags=["auth"],
        operation_id="auth_register",
        extensions=response_links(201, **SIGNED_IN_LINKS),
    )
    def post(self, request):
        data = RegisterIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = user_register(**data.validated_data, request=request)
        except DjangoValidationError as exc:
            raise WeakPassword(
                " ".join(exc.messages), details={"fields": {"password": exc.messages}}
            ) from None
        session = shopper_sign_in(user=user, session=_guest_session(request), channel="api")
        return Response(_auth_payload(user, session), status=status.HTTP_201_CREATED)


class LoginView(APIView):
    authentication_classes: list = []

    @extend_schema(
        request=LoginIn,
        responses={
            200: AuthOut,
            401: error_response("`invalid_credentials`: wrong e-mail address or password."),
            429: _RATE_LIMITED,
        },
        tags=["auth"],
        operation_id="auth_login",
        extensions=response_links(200, **SIGNED_IN_LINKS),
    )
    def post(self, request):
        data = LoginIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_authenticate(**data.validated_data, request=request)
        session = shopper_sign_in(user=user, session=_guest_session(request), channel="api")
        return Response(_auth_payload(user, session))


class RefreshIn(serializers.Serializer):
    refreshToken = TextField()


class RefreshOut(serializers.Serializer):
    accessToken = serializers.CharField()
    refreshToken = serializers.CharField()


class RefreshView(APIView):
    authentication_classes: list = []

    @extend_schema(
        request=RefreshIn,
        responses={200: RefreshOut, 401: error_response("`invalid_token`: not valid, expired or revoked.")},
        tags=["auth"],
        operation_id="auth_refresh",
        extensions=response_links(200, Refresh=link("auth_refresh", body=_REFRESH_BODY)),
    )
    def post(self, request):
        data = RefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        refresher = TokenRefreshSerializer(data={"refresh": data.validated_data["refreshToken"]})
        try:
            refresher.is_valid(raise_exception=True)
        except TokenError as exc:
            raise DomainError(str(exc), code="invalid_token", status_code=401) from None
        except serializers.ValidationError:
            raise DomainError(
                "The refresh token is not valid.", code="invalid_token", status_code=401
            ) from None
        tokens = refresher.validated_data
        return Response({"accessToken": tokens["access"], "refreshToken": tokens["refresh"]})


class LogoutIn(serializers.Serializer):
    refreshToken = TextField()
    everywhere = JSONBooleanField(
        required=False, default=False, help_text="Also refuse every other refresh token of the account."
    )


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=LogoutIn,
        responses={
            204: OpenApiResponse(description="Signed out: the refresh token is refused from now on."),
            422: error_response("`invalid_token`: not valid, already refused, or not this account's."),
        },
        tags=["auth"],
        operation_id="auth_logout",
    )
    def post(self, request):
        data = LogoutIn(data=request.data)
        data.is_valid(raise_exception=True)
        refresh_token_revoke(user=request.user, refresh_token=data.validated_data["refreshToken"])
        if data.validated_data["everywhere"]:
            user_sign_out_everywhere(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeIn(serializers.Serializer):
    currentPassword = TextField(max_length=128, trim_whitespace=False)
    newPassword = TextField(max_length=128, trim_whitespace=False)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PasswordChangeIn,
        responses={
            204: OpenApiResponse(description="Changed; every refresh token of the account is refused."),
            # CONTRACT.md section 6 fixes this 400 (schemathesis.toml expects it of this operation only).
            400: error_response("`invalid_credentials`: the current password is wrong."),
            422: error_response(
                "`weak_password`: the new one fails the password rules (`details.fields.newPassword`)."
            ),
            429: _RATE_LIMITED,
        },
        tags=["auth"],
        operation_id="account_password_change",
    )
    def post(self, request):
        data = PasswordChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user_change_password(
                user=request.user,
                current_password=data.validated_data["currentPassword"],
                new_password=data.validated_data["newPassword"],
                request=request,
            )
        except DjangoValidationError as exc:
            raise WeakPassword(
                " ".join(exc.messages), details={"fields": {"newPassword": exc.messages}}
            ) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountOut(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    phone = serializers.CharField()
    timezone = serializers.CharField()
    voiceOptIn = serializers.BooleanField(source="voice_opt_in")
    dateJoined = serializers.DateTimeField(source="date_joined")


@extend_schema_field({"type": "string", "enum": ["", *sorted(zoneinfo.available_timezones())]})
class TimezoneField(TextField):
    """An IANA time zone name (validate_timezone), or empty."""


class AccountIn(serializers.Serializer):
    name = TextField(max_length=150, required=False, allow_blank=True)
    phone = serializers.RegexField(
        r"^\+[1-9]\d{6,14}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Enter the phone number in E.164 form, like +14155550123."},
    )
    timezone = TimezoneField(max_length=64, required=False, allow_blank=True)
    voiceOptIn = JSONBooleanField(required=False, source="voice_opt_in")

    def validate_timezone(self, value: str) -> str:
        if value:
            try:
                validate_timezone(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from None
        return value


class AccountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AccountOut}, tags=["auth"], operation_id="account_get")
    def get(self, request):
        return Response(AccountOut(request.user).data)

    @extend_schema(
        request=AccountIn, responses={200: AccountOut}, tags=["auth"], operation_id="account_update"
    )
    def patch(self, request):
        data = AccountIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = account_update(user=request.user, **data.validated_data)
        return Response(AccountOut(user).data)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates (which PostgreSQL's jsonb cannot hold) made U+FFFD."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


class ContextField(serializers.DictField):
    """Any JSON object the client wants kept with the session, stored as sent but for characters no
    database text can hold (NUL, lone surrogates), which become U+FFFD."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return _storable(super().to_internal_value(data))


class SessionIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ShopperSession.Channel.values, default="api")
    initialContext = ContextField(
        required=False,
        default=dict,
        help_text="Any JSON object; NUL and lone surrogate characters are stored as U+FFFD.",
    )


class SessionOut(serializers.Serializer):
    sessionId = serializers.CharField(source="key")
    channel = serializers.CharField()
    expiresAt = serializers.DateTimeField(source="expires_at")
    createdAt = serializers.DateTimeField(source="created_at")
    userId = serializers.SerializerMethodField()

    def get_userId(self, obj: ShopperSession) -> str | None:
        return str(obj.user_id) if obj.user_id else None


class SessionCreateView(ShopperAPIMixin, APIView):
    @extend_schema(
        request=SessionIn,
        responses={201: SessionOut},
        tags=["sessions"],
        operation_id="session_create",
        extensions=response_links(201, **SESSION_LINKS),
    )
    def post(self, request):
        data = SessionIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        session = shopper_session_create(
            channel=data.validated_data["channel"],
            user=user,
            initial_context=data.validated_data["initialContext"],
        )
        return Response(SessionOut(session).data, status=status.HTTP_201_CREATED)


class SessionDetailView(APIView):
    def _get(self, request, session_id: str) -> ShopperSession:
        user = request.user if request.user.is_authenticated else None
        session = shopper_session_usable_by(key=session_id, user=user)
        if session is None:
            raise SessionNotFound("Unknown or expired session id.", details={"sessionId": session_id})
        return session

    @extend_schema(responses={200: SessionOut}, tags=["sessions"], operation_id="session_get")
    def get(self, request, session_id: str):
        return Response(SessionOut(self._get(request, session_id)).data)

    @extend_schema(
        responses={204: OpenApiResponse(description="ended")}, tags=["sessions"], operation_id="session_end"
    )
    def delete(self, request, session_id: str):
        shopper_session_end(session=self._get(request, session_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
