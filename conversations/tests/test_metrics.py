"""The assistant's messages are counted on /metrics by intent, planner, fallback and channel, with the
reply time in a histogram, when a shopper really writes (the REST door; the socket runs the same
pipeline)."""

from __future__ import annotations

import pytest
from django.test import Client

from commerce.testing.metrics import sample, scrape

pytestmark = pytest.mark.django_db
MESSAGES = "commerce_assistant_messages_total"
REPLIES = "commerce_assistant_reply_seconds_count"


def test_a_message_is_counted_with_its_intent_planner_and_reply_time(api_client, settings):
    labels = {"intent": "greeting", "planner": "rules", "fallback": "none", "channel": "api"}
    before = scrape(Client(), settings)

    response = api_client.post(
        "/api/v1/interactions/message", {"content": "hello", "channel": "api"}, format="json"
    )

    after = scrape(Client(), settings)
    assert response.status_code == 200 and response.json()["intent"] == "greeting"
    assert sample(after, MESSAGES, **labels) == sample(before, MESSAGES, **labels) + 1
    assert sample(after, REPLIES, planner="rules") == sample(before, REPLIES, planner="rules") + 1
