"""Conversations' Celery tasks (short and safe to repeat; ARCHITECTURE rules 9 and 10)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from conversations import services


@shared_task(
    name="conversations.summarize_idle",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def summarize_idle_task() -> int:
    # Repeat-safe: each stretch is claimed by a conditional update before it is summarized.
    return services.conversations_summarize_idle()


@shared_task(
    name="conversations.shadow_plan",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=2,
    soft_time_limit=60,
    time_limit=90,
)
def shadow_plan_task(payload: dict) -> dict:
    # Repeat-safe: storing the model's plan on the message again replaces it with an equal record.
    from conversations.assistant.model_planner import shadow_plan

    return shadow_plan(payload)


@shared_task(
    name="conversations.purge_unused_guest_sessions",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def purge_unused_guest_sessions_task() -> int:
    # Repeat-safe: a second run finds nothing the first one left behind.
    return services.guest_sessions_purge_unused()
