"""Who an MCP call acts for: the token's shopper, else the MCP session's guest.

An MCP session (its ``Mcp-Session-Id``) names a :class:`ShopperSession` of its own, made on first use,
so a guest agent's cart is a real guest cart. When the same MCP session later presents a personal
access token, the shopper signs in through the same service as every other door and the guest cart
merges into the account's. A client of the sessionless protocol (2026-07-28) may name a guest session
with ``X-Session-Id``, as API clients do; without either, a guest can browse but has no cart.
"""

from __future__ import annotations

import hashlib

from commerce.accounts.errors import SessionNotFound
from commerce.accounts.models import ShopperSession, User
from commerce.accounts.selectors import session_belongs_to_another, shopper_session_usable_by
from commerce.accounts.services import shopper_session_for_key, shopper_sign_in
from commerce.accounts.shoppers import Shopper

MCP_CHANNEL = ShopperSession.Channel.MCP


def session_key_for(mcp_session_id: str) -> str:
    """The shopper session key an MCP session maps to (a digest: the key does not reveal the id)."""
    return "mcp_" + hashlib.sha256(mcp_session_id.encode()).hexdigest()[:48]


def mcp_shopper(*, user: User | None, mcp_session_id: str, api_session_key: str) -> Shopper:
    if mcp_session_id:
        session = shopper_session_for_key(key=session_key_for(mcp_session_id), channel=MCP_CHANNEL)
        if not session.is_active() or session_belongs_to_another(session, user):
            # signed out since, or another account's token: never this session's cart
            return Shopper(user=user, session=None)
        if user is not None and session.user_id is None:
            session = shopper_sign_in(user=user, session=session, channel=MCP_CHANNEL)
        return Shopper(user=user, session=session)
    if api_session_key:
        named = shopper_session_usable_by(key=api_session_key, user=user)
        if named is None:
            raise SessionNotFound("Unknown or expired session id.", details={"sessionId": api_session_key})
        return Shopper(user=user, session=named)
    return Shopper(user=user, session=None)
