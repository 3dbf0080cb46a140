"""Conversation and support API (CONTRACT.md section 2: Sessions and conversation, Support)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.accounts.errors import SessionNotFound
from commerce.accounts.models import ShopperSession, User
from commerce.accounts.selectors import (
    shopper_session_usable_by,
)
from commerce.accounts.services import shopper_session_create
from commerce.accounts.shoppers import Shopper, session_key_from_api, signed_in_user
from commerce.errors import InvalidInput
from commerce.fields import TextField
from commerce.openapi import WHITESPACE_CLASS, error_response, link, response_links
from commerce.pagination import limit_offset_parameters, parse_limit_offset
from commerce.ratelimit import client_address as client_ip
from commerce.ws_auth import ws_ticket_issue
from conversations import selectors, services
from conversations.assistant.pipeline import respond
from conversations.models import SupportTicket

_datetime = serializers.DateTimeField()


def _iso(value) -> str | None:
    return _datetime.to_representation(value) if value is not None else None


def _user(request: Request) -> User | None:
    return request.user if request.user.is_authenticated else None


def _named_session(request: Request, key: str) -> ShopperSession | None:
    """The session a request names (``sessionId``, else header or cookie), checked against the caller.

    An unknown id, or one belonging to another account, is 404 ``session_not_found``: it never
    names someone else's conversation.
    """
    key = (key or session_key_from_api(request)).strip()
    if not key:
        return None
    user = _user(request)
    session = shopper_session_usable_by(key=key, user=user)
    if session is None:
        raise SessionNotFound("Unknown or expired session id.", details={"sessionId": key})
    return session


def _latest_user_session(user: User, channel: str) -> ShopperSession:
    """A signed-in caller without a session id gets their latest session on the channel (or a new one)."""
    session = (
        ShopperSession.objects.active().filter(user=user, channel=channel).order_by("-last_seen_at").first()
    )
    return session or shopper_session_create(channel=channel, user=user)


# What message_content_clean keeps: at least one character that is neither white space nor a control
# character (those are dropped); the serializer itself refuses NUL and lone surrogates.
CONTENT_PATTERN = (
    f"^[^\\u0000]*[^{WHITESPACE_CLASS}\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F][^\\u0000]*$"
)
# What handoff_code_normalize reads: the code's 8 characters, any case, with spaces, dashes, dots or
# underscores between them.
HANDOFF_CODE_PATTERN = (
    f"^[\\s._-]*([{services.HANDOFF_ALPHABET}{services.HANDOFF_ALPHABET.lower()}][\\s._-]*)"
    f"{{{services.HANDOFF_CODE_LENGTH}}}$"
)


@extend_schema_field({"type": "string", "pattern": CONTENT_PATTERN})
class ChatContentField(TextField):
    pass


@extend_schema_field({"type": "string", "pattern": HANDOFF_CODE_PATTERN, "maxLength": 40})
class HandoffCodeField(TextField):
    pass


class MessageIn(serializers.Serializer):
    sessionId = TextField(required=False, allow_blank=True, max_length=64, default="")
    # No max_length here: the pipeline's own check answers an overlong message with 413 message_too_long.
    content = ChatContentField(trim_whitespace=False)
    channel = serializers.ChoiceField(choices=ShopperSession.Channel.values, required=False, default="api")


ReplyOut = inline_serializer(
    "Reply",
    {
        "sessionId": serializers.CharField(),
        "reply": serializers.CharField(),
        "intent": serializers.CharField(),
        "confidence": serializers.FloatField(),
        "actions": serializers.ListField(child=serializers.DictField()),
        "products": serializers.ListField(child=serializers.DictField()),
        "cart": serializers.DictField(allow_null=True),
        "suggestions": serializers.ListField(child=serializers.CharField()),
        "planner": serializers.ChoiceField(
            choices=["rules", "llm"], help_text="which planner chose the actions"
        ),
        "fallbackReason": serializers.CharField(
            allow_null=True, help_text="why the model, meant to plan this message, did not (null otherwise)"
        ),
    },
)


class InteractionMessageView(APIView):
    @extend_schema(
        request=MessageIn,
        responses={200: ReplyOut},
        tags=["conversation"],
        operation_id="interactions_message",
    )
    def post(self, request: Request) -> Response:
        data = MessageIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = _user(request)
        session = _named_session(request, values["sessionId"])
        if session is None:
            # A guest without a session starts one; the Reply's sessionId tells them its id.
            session = (
                _latest_user_session(user, values["channel"])
                if user
                else shopper_session_create(channel=values["channel"])
            )
        shopper = Shopper(user=user, session=session)
        services.chat_rate_check(shopper=shopper)  # 429 rate_limited with Retry-After
        reply = respond(shopper=shopper, text=values["content"], channel=values["channel"])
        return Response(reply)


WsTicketOut = inline_serializer(
    "WsTicket",
    {
        "ticket": serializers.CharField(help_text="Connect with /ws/chat/?ticket=<ticket>; good once."),
        "expiresIn": serializers.IntegerField(help_text="Seconds the ticket can still be used."),
    },
)


class WsTicketView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: WsTicketOut},
        tags=["auth"],
        operation_id="auth_ws_ticket",
        description="A one-time ticket for the chat socket (`/ws/chat/?ticket=`), so no access token "
        "goes into a URL. Good for one connect within 60 seconds; the socket it opens closes (4401) when "
        "the access token used here expires.",
    )
    def post(self, request: Request) -> Response:
        token = request.auth
        expires_at = token.get("exp") if hasattr(token, "get") else None
        issued = ws_ticket_issue(user=signed_in_user(request), credential_expires_at=expires_at)
        return Response({"ticket": issued.ticket, "expiresIn": issued.expires_in})


HistoryOut = inline_serializer(
    "History",
    {
        "items": inline_serializer(
            "HistoryItem",
            {
                "role": serializers.CharField(),
                "content": serializers.CharField(),
                "intent": serializers.CharField(),
                "createdAt": serializers.DateTimeField(),
                "channel": serializers.CharField(),
            },
            many=True,
        )
    },
)


class InteractionHistoryView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "sessionId", str, description="The guest's session id (optional when signed in)."
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": selectors.HISTORY_MAX_LIMIT},
                description=f"Most recent messages to return, 1-{selectors.HISTORY_MAX_LIMIT} (default 50).",
            ),
        ],
        responses={200: HistoryOut},
        tags=["conversation"],
        operation_id="interactions_history",
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        session = _named_session(request, request.query_params.get("sessionId", ""))
        if user is None and session is None:
            raise InvalidInput("sessionId is required for a guest.", details={"field": "sessionId"})
        raw_limit = request.query_params.get("limit", "")
        limit = selectors.HISTORY_DEFAULT_LIMIT
        if raw_limit:
            if (
                not (raw_limit.isascii() and raw_limit.isdigit())
                or not 1 <= int(raw_limit) <= selectors.HISTORY_MAX_LIMIT
            ):
                raise InvalidInput(
                    f"limit must be a whole number from 1 to {selectors.HISTORY_MAX_LIMIT}.",
                    details={"field": "limit"},
                )
            limit = int(raw_limit)
        conversation = selectors.conversation_find(shopper=Shopper(user=user, session=session))
        messages = selectors.history(conversation=conversation, limit=limit)
        return Response({"items": [selectors.message_to_dict(m) for m in messages]})


# --- handoff codes (an addition to CONTRACT.md: "continue on your phone") -------------------------


class HandoffCodeIn(serializers.Serializer):
    sessionId = TextField(required=False, allow_blank=True, max_length=64, default="")


HandoffCodeOut = inline_serializer(
    "HandoffCode",
    {
        "code": serializers.CharField(help_text="Shown once; 8 characters, written ABCD-2345."),
        "expiresAt": serializers.DateTimeField(),
        "sessionId": serializers.CharField(help_text="The session the code hands over."),
    },
)


class HandoffCodeView(APIView):
    @extend_schema(
        request=HandoffCodeIn,
        responses={201: HandoffCodeOut},
        tags=["conversation"],
        operation_id="handoff_code_create",
        extensions=response_links(201, Redeem=link("handoff_redeem", body={"code": "$response.body#/code"})),
        description="A one-time code (10 minutes) that lets another device continue this session's "
        "conversation and cart with POST /handoff/redeem. A new code replaces the session's earlier one.",
    )
    def post(self, request: Request) -> Response:
        data = HandoffCodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(request)
        session = _named_session(request, data.validated_data["sessionId"])
        if session is None:
            if user is None:
                raise InvalidInput(
                    "sessionId is required for a guest: it names the conversation to hand over.",
                    details={"field": "sessionId"},
                )
            session = _latest_user_session(user, "api")
        issued = services.handoff_code_issue(shopper=Shopper(user=user, session=session))
        return Response(
            {"code": issued.code, "expiresAt": _iso(issued.expires_at), "sessionId": session.key},
            status=status.HTTP_201_CREATED,
        )


class HandoffRedeemIn(serializers.Serializer):
    code = HandoffCodeField(max_length=40, trim_whitespace=True)
    sessionId = TextField(required=False, allow_blank=True, max_length=64, default="")


SessionOut = inline_serializer(
    "HandoffSession",
    {
        "sessionId": serializers.CharField(),
        "channel": serializers.CharField(),
        "expiresAt": serializers.DateTimeField(),
    },
)


class HandoffRedeemView(APIView):
    @extend_schema(
        request=HandoffRedeemIn,
        responses={
            200: SessionOut,
            403: error_response("`handoff_sign_in_required`: the code hands over a signed-in session."),
            404: error_response("`handoff_code_not_found`."),
            409: error_response("`handoff_code_used`."),
            422: error_response("`handoff_code_expired`."),
            429: error_response("`rate_limited`, with `Retry-After`."),
        },
        tags=["conversation"],
        operation_id="handoff_redeem",
        description="Spends a handoff code; use the returned sessionId from now on (X-Session-Id): it "
        "names the same cart and conversation as the device that asked for the code. Errors: 400 "
        "handoff_code_invalid, 404 handoff_code_not_found, 409 handoff_code_used, 422 "
        "handoff_code_expired, 403 handoff_sign_in_required, 429 rate_limited (5 refused "
        "codes per 10 minutes per IP, session and account).",
    )
    def post(self, request: Request) -> Response:
        data = HandoffRedeemIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = _user(request)
        # The caller's own session only sharpens the rate limit; a stale one must not block the code.
        own = shopper_session_usable_by(
            key=(values["sessionId"] or session_key_from_api(request)).strip(), user=user
        )
        session = services.handoff_redeem(
            code=values["code"], user=user, session=own, client_ip=client_ip(request), channel="api"
        )
        return Response(
            {"sessionId": session.key, "channel": session.channel, "expiresAt": _iso(session.expires_at)}
        )


# --- support ---------------------------------------------------------------------------------


def ticket_to_dict(ticket: SupportTicket, *, with_messages: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(ticket.pk),
        "subject": ticket.subject,
        "status": ticket.status,
        "orderId": ticket.order_number or None,
        "channel": ticket.channel,
        "createdAt": _iso(ticket.created_at),
        "updatedAt": _iso(ticket.updated_at),
        "closedAt": _iso(ticket.closed_at),
    }
    if with_messages:
        data["messages"] = [
            {"id": str(m.pk), "author": m.author_role, "body": m.body, "createdAt": _iso(m.created_at)}
            for m in ticket.messages.all()
        ]
    return data


class TicketIn(serializers.Serializer):
    subject = TextField(max_length=200)
    message = TextField(max_length=services.MAX_MESSAGE_CHARS)
    orderId = TextField(max_length=32, required=False, allow_blank=True, allow_null=True)


TicketOut = inline_serializer(
    "SupportTicket",
    {
        "id": serializers.CharField(),
        "subject": serializers.CharField(),
        "status": serializers.ChoiceField(choices=SupportTicket.Status.values),
        "orderId": serializers.CharField(allow_null=True),
        "channel": serializers.CharField(),
        "createdAt": serializers.DateTimeField(),
        "updatedAt": serializers.DateTimeField(),
        "closedAt": serializers.DateTimeField(allow_null=True),
        "messages": serializers.ListField(child=serializers.DictField()),
    },
)


TicketListOut = inline_serializer(
    "SupportTicketList",
    {
        "items": serializers.ListField(child=serializers.DictField()),
        "total": serializers.IntegerField(),
        "limit": serializers.IntegerField(),
        "offset": serializers.IntegerField(),
    },
)


def _ticket_links(ticket_id: str) -> dict[str, dict]:
    parameters = {"ticket_id": ticket_id}
    return {
        "GetTicket": link("support_tickets_retrieve", parameters=parameters),
        "CloseTicket": link("support_tickets_close", parameters=parameters),
    }


class TicketListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=limit_offset_parameters(),
        responses={200: TicketListOut},
        tags=["support"],
        operation_id="support_tickets_list",
        extensions=response_links(200, **_ticket_links("$response.body#/items/0/id")),
    )
    def get(self, request: Request) -> Response:
        limit, offset = parse_limit_offset(request.query_params)
        tickets = selectors.tickets_for_user(user=signed_in_user(request))
        total = tickets.count()
        items = [ticket_to_dict(t, with_messages=False) for t in tickets[offset : offset + limit]]
        return Response({"items": items, "total": total, "limit": limit, "offset": offset})

    @extend_schema(
        request=TicketIn,
        responses={201: TicketOut},
        tags=["support"],
        operation_id="support_tickets_create",
        extensions=response_links(201, **_ticket_links("$response.body#/id")),
    )
    def post(self, request: Request) -> Response:
        data = TicketIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ticket = services.ticket_open(
            user=signed_in_user(request),
            subject=values["subject"],
            message=values["message"],
            order_number=values.get("orderId") or None,
            channel="api",
        )
        return Response(ticket_to_dict(ticket), status=status.HTTP_201_CREATED)


class TicketDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: TicketOut}, tags=["support"], operation_id="support_tickets_retrieve")
    def get(self, request: Request, ticket_id: str) -> Response:
        return Response(
            ticket_to_dict(selectors.ticket_get_for_user(user=signed_in_user(request), ticket_id=ticket_id))
        )


class TicketCloseView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={200: TicketOut}, tags=["support"], operation_id="support_tickets_close"
    )
    def post(self, request: Request, ticket_id: str) -> Response:
        ticket = selectors.ticket_get_for_user(user=signed_in_user(request), ticket_id=ticket_id)
        services.ticket_close(ticket=ticket)
        return Response(ticket_to_dict(ticket))
