"""An MCP agent for the tests: the official ``mcp`` client over streamable HTTP, and a store to shop in.

The tests of ``/mcp`` set the store up synchronously, run one agent's conversation with the real server
(Daphne in a thread of the test process, :mod:`commerce.testing.asgi_server`), then check the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from carts.services import cart_add_item
from catalog.tests.factories import VariantFactory
from commerce.accounts.services import access_token_create
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from orders.services import order_place
from orders.tests.conftest import ADDRESS, PAY_OK

TOOL_NAMES = {
    "search_catalog",
    "get_product",
    "get_cart",
    "update_cart",
    "get_store_policies",
    "get_order_status",
    "prepare_checkout",
    "place_order",
}


class Agent:
    """One MCP client session; ``sign_in`` puts a token on the same session's later requests."""

    def __init__(self, client: Client, http: httpx2.AsyncClient) -> None:
        self.client, self.http = client, http

    def sign_in(self, secret: str) -> None:
        self.http.headers["Authorization"] = f"Bearer {secret}"

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> types.CallToolResult:
        return await self.client.call_tool(name, arguments or {})


def error_code(result: types.CallToolResult) -> str:
    assert result.is_error, result
    return str(result.structured_content["error"]["code"])


def run_agent(
    url: str,
    scenario: Callable[[Agent], Awaitable[None]],
    *,
    token: str = "",
    elicitation: Callable[..., Awaitable[types.ElicitResult]] | None = None,
) -> None:
    async def main() -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with create_mcp_http_client(headers=headers) as http:
            transport = streamable_http_client(f"{url}/mcp", http_client=http)
            async with Client(
                transport, mode="legacy", elicitation_callback=elicitation, cache=None
            ) as client:
                await scenario(Agent(client, http))

    anyio.run(main)


def shopper_with_details_on_file() -> Any:
    """A shopper who checked out once before (their address and payment method are on file)."""
    user = UserFactory()
    earlier = VariantFactory(stock=3)
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=earlier.pk, quantity=1)
    order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    return user


def token_for(user: Any, *scopes: str) -> str:
    return access_token_create(user=user, name="agent", scopes=list(scopes), expires_in_days=7)[1]
