"""The store's MCP server at ``/mcp``: one more door onto the assistant's tools (docs/agents.md).

``tools`` (what an agent may call), ``shoppers`` (who it acts for), ``server`` (the SDK's handlers) and
``asgi`` (the HTTP door mounted in ``commerce.asgi``).
"""
