"""Agentic Commerce Protocol (ACP) checkout sessions: a door for outside agent platforms onto the cart
and order services (spec version 2026-04-17; docs/agents.md)."""
