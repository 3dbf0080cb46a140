"""The MCP server at /mcp, driven by the official ``mcp`` client over streamable HTTP against Daphne:
a guest agent fills a cart, signs in with a token and checks out with the confirmation pair; the
sessionless protocol; policies as tools and resources; what the door refuses before the SDK."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from commerce.accounts.models import ShopperSession
from commerce.audit.models import AuditEvent
from conversations.tests.mcp_agent import (
    TOOL_NAMES,
    Agent,
    error_code,
    run_agent,
    shopper_with_details_on_file,
    token_for,
)
from orders.models import Order
from orders.tests.conftest import ADDRESS

pytestmark = [pytest.mark.django_db(transaction=True)]
pytest_plugins = ["commerce.testing.asgi_server"]  # asgi_live_server


def test_guest_agent_fills_a_cart_then_signs_in_with_a_token_and_checks_out_confirmed(
    asgi_live_server, mcp_store
):
    user = shopper_with_details_on_file()
    secret = token_for(user, "cart", "orders")
    asked: list[str] = []
    seen: dict[str, Any] = {}

    async def shopper_says_yes(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    async def scenario(agent: Agent) -> None:
        listed = await agent.client.list_tools()
        assert {t.name for t in listed.tools} == TOOL_NAMES
        assert all(t.input_schema["type"] == "object" for t in listed.tools)

        found = await agent.call("search_catalog", {"query": "trail runner"})
        assert not found.is_error
        product = found.structured_content["products"][0]
        assert product["name"] == "Trail Runner"
        detail = await agent.call("get_product", {"productId": product["id"]})
        variant_id = detail.structured_content["product"]["variants"][0]["id"]

        filled = await agent.call("update_cart", {"variantId": variant_id, "quantity": 2})
        assert filled.structured_content["cart"]["itemCount"] == 2
        assert error_code(await agent.call("prepare_checkout")) == "not_authenticated"

        agent.sign_in(secret)
        merged = await agent.call("get_cart")
        assert [(i["variantId"], i["quantity"]) for i in merged.structured_content["cart"]["items"]] == [
            (variant_id, 2)
        ]
        prepared = await agent.call("prepare_checkout")
        assert not prepared.is_error, prepared
        pending = prepared.structured_content
        assert pending["total"] == merged.structured_content["cart"]["total"]
        assert pending["shippingAddress"]["city"] == ADDRESS["city"]
        assert "pm_test" not in str(pending["paymentMethod"]) or "…" in pending["paymentMethod"]["display"]

        request_id = uuid.uuid4().hex
        arguments = {"confirmationId": pending["confirmationId"], "requestId": request_id}
        placed = await agent.call("place_order", arguments)
        assert not placed.is_error, placed
        seen["order"] = placed.structured_content["order"]["id"]
        replay = await agent.call("place_order", arguments)
        assert replay.structured_content["order"]["id"] == seen["order"]
        assert replay.structured_content["replayed"] is True
        again = await agent.call("place_order", {**arguments, "requestId": uuid.uuid4().hex})
        assert error_code(again) == "confirmation_used"
        status = await agent.call("get_order_status", {"orderId": seen["order"]})
        assert status.structured_content["order"]["status"] == "paid"

    run_agent(asgi_live_server.url, scenario, elicitation=shopper_says_yes)

    assert len(asked) == 1 and "$" in asked[0]
    order = Order.objects.get(number=seen["order"])
    assert order.user == user and order.total > 0
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [(mcp_store.sku, 2)]
    mcp_store.refresh_from_db()
    assert mcp_store.stock == 3
    assert ShopperSession.objects.get(channel="mcp").user == user
    uses = AuditEvent.objects.filter(action="token.use", summary__door="mcp")
    assert {e.summary["what"] for e in uses} >= {"get_cart", "prepare_checkout", "place_order"}


def test_store_policies_are_tools_and_resources(asgi_live_server, mcp_store):
    async def scenario(agent: Agent) -> None:
        resources = await agent.client.list_resources()
        returns = next(r for r in resources.resources if r.name == "Returns")
        read = await agent.client.read_resource(str(returns.uri))
        assert "Return within 30 days." in read.contents[0].text
        answered = await agent.call("get_store_policies", {"question": "How do I return something?"})
        assert "30 days" in answered.content[0].text
        assert answered.structured_content["policies"][0]["topic"] == "returns"

    run_agent(asgi_live_server.url, scenario)


def test_the_door_refuses_bad_tokens_foreign_origins_and_floods(asgi_live_server, mcp_store, settings):
    url = f"{asgi_live_server.url}/mcp"
    ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    accept = {"Accept": "application/json, text/event-stream"}
    bad = httpx.post(url, json=ping, headers={**accept, "Authorization": "Bearer pat_not-a-token"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_token"
    foreign = httpx.post(url, json=ping, headers={**accept, "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    rebound = httpx.post(url, json=ping, headers={**accept, "Host": "evil.example"})
    assert rebound.status_code == 400 and rebound.json()["error"]["code"] == "bad_host"
    jwt = httpx.post(url, json=ping, headers={**accept, "Authorization": "Bearer eyJhbGciOi.x.y"})
    assert jwt.status_code == 401
    settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE = 2
    statuses = [httpx.post(url, json=ping, headers=accept).status_code for _ in range(4)]
    assert statuses[-1] == 429


def test_a_client_of_the_sessionless_protocol_checks_out_with_its_token(asgi_live_server, mcp_store):
    user = shopper_with_details_on_file()
    secret = token_for(user, "cart", "orders")
    placed: dict[str, Any] = {}

    async def main() -> None:
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {secret}"}) as http:
            transport = streamable_http_client(f"{asgi_live_server.url}/mcp", http_client=http)
            async with Client(transport, mode="auto", cache=None) as client:
                assert client.protocol_version == "2026-07-28"
                added = await client.call_tool("update_cart", {"variantId": str(mcp_store.pk), "quantity": 1})
                assert not added.is_error, added
                prepared = (await client.call_tool("prepare_checkout", {})).structured_content
                ids = {"confirmationId": prepared["confirmationId"], "requestId": uuid.uuid4().hex}
                result = await client.call_tool("place_order", ids)
                assert not result.is_error, result
                placed["order"] = result.structured_content["order"]["id"]

    anyio.run(main)
    assert Order.objects.get(number=placed["order"]).user == user


def test_a_sessionless_guest_names_its_cart_with_the_api_session_id(asgi_live_server, mcp_store):
    api = f"{asgi_live_server.url}/api/v1"
    session_id = httpx.post(f"{api}/sessions", json={"channel": "web"}).json()["sessionId"]

    async def main() -> None:
        async with create_mcp_http_client(headers={"X-Session-Id": session_id}) as http:
            transport = streamable_http_client(f"{asgi_live_server.url}/mcp", http_client=http)
            async with Client(transport, mode="auto", cache=None) as client:
                added = await client.call_tool("update_cart", {"variantId": str(mcp_store.pk), "quantity": 2})
                assert not added.is_error, added

    anyio.run(main)
    cart = httpx.get(f"{api}/cart", headers={"X-Session-Id": session_id}).json()
    assert [(i["variantId"], i["quantity"]) for i in cart["items"]] == [(str(mcp_store.pk), 2)]
