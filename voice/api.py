"""``POST /api/v1/voice/superu/callback``: the voice provider reports a call's outcome (CONTRACT.md).

Signed, not authenticated: no JWT, no session, no throttle by caller; the HMAC over
``"<timestamp>.<raw body>"`` is the credential. The raw body is verified before it is parsed.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.errors import DomainError
from commerce.security_events import record_security_event
from voice.services import callback_apply, callback_verify


def _header(request: Request, *names: str) -> str | None:
    for name in names:
        value = request.headers.get(name)
        if value:
            return value
    return None


class SuperUCallbackView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="voice_superu_callback",
        request=inline_serializer(
            "SuperUCallback",
            {
                "call_uuid": serializers.CharField(),
                "status": serializers.CharField(),
                "outcome": serializers.CharField(required=False),
                "duration_seconds": serializers.IntegerField(required=False),
                "summary": serializers.CharField(required=False),
            },
        ),
        responses={
            200: inline_serializer("SuperUCallbackAck", {"call_uuid": serializers.CharField()}),
            400: OpenApiResponse(description="Malformed body"),
            401: OpenApiResponse(description="Missing, wrong or stale signature"),
            404: OpenApiResponse(description="Unknown call_uuid"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        body = request.body
        try:
            callback_verify(
                body=body,
                signature=_header(request, "X-SuperU-Signature", "X-Signature"),
                timestamp=_header(request, "X-SuperU-Timestamp", "X-Timestamp"),
            )
        except DomainError as refused:
            record_security_event("voice_callback_refused", audit=False, reason=refused.code)
            raise
        return Response({"call_uuid": callback_apply(body=body)})
