"""Test helpers shared across apps (pytest plugins, not shipped behaviour)."""
