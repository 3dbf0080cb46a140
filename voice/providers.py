"""The outbound-call port and its two adapters: SuperU (over HTTP) and a local simulator.

CONTRACT.md, "Voice provider (SuperU)": ``POST {SUPERU_API_URL}/campaign/outbound/create_call/superu``
with header ``superU-Api-Key`` and JSON ``{assistant_id, to, from, campaign_id, customer_name,
customer_id, variable_values}``; the answer holds the call's id as ``call_uuid`` (or ``id``). Any non-2xx
answer, timeout or connection error is a :class:`ProviderError`, which the caller records as a failed
attempt (retried with backoff).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from voice.selectors import VoiceConfig

logger = logging.getLogger(__name__)

SUPERU_CREATE_CALL_PATH = "/campaign/outbound/create_call/superu"


class ProviderError(Exception):
    """The provider did not accept the call; the message is stored as the attempt's error."""


@dataclass(frozen=True)
class CallRequest:
    to: str
    customer_name: str
    customer_id: str
    script: str
    variable_values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderCall:
    call_id: str
    raw: dict[str, Any] = field(default_factory=dict)
    # Run once the accepted call is recorded (the simulator schedules its callback here, so the callback
    # can never arrive before the call id is known).
    on_recorded: Callable[[], None] | None = None


class VoiceProvider(Protocol):
    name: str

    def place_call(self, request: CallRequest) -> ProviderCall: ...


class SuperUProvider:
    name = "superu"

    def __init__(self, config: VoiceConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.transport = transport

    def _timeout(self) -> httpx.Timeout:
        total = self.config.superu_timeout_seconds
        return httpx.Timeout(total, connect=min(5.0, total))

    def place_call(self, request: CallRequest) -> ProviderCall:
        c = self.config
        missing = [
            name
            for name, value in (
                ("SUPERU_API_KEY", c.superu_api_key),
                ("SUPERU_ASSISTANT_ID", c.superu_assistant_id),
                ("SUPERU_FROM_PHONE_NUMBER", c.superu_from_phone_number),
            )
            if not value
        ]
        if missing:
            raise ProviderError(f"SuperU is enabled but not configured: set {', '.join(missing)}.")
        payload = {
            "assistant_id": c.superu_assistant_id,
            "to": request.to,
            "from": c.superu_from_phone_number,
            "campaign_id": c.superu_campaign_id,
            "customer_name": request.customer_name,
            "customer_id": request.customer_id,
            "variable_values": request.variable_values,
        }
        url = f"{c.superu_api_url}{SUPERU_CREATE_CALL_PATH}"
        try:
            with httpx.Client(timeout=self._timeout(), transport=self.transport) as client:
                response = client.post(url, json=payload, headers={"superU-Api-Key": c.superu_api_key})
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"SuperU timed out after {c.superu_timeout_seconds}s ({type(exc).__name__})."
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(f"SuperU unreachable: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise ProviderError(f"SuperU answered {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(
                f"SuperU answered {response.status_code} with a body that is not JSON."
            ) from exc
        call_id = (body.get("call_uuid") or body.get("id")) if isinstance(body, dict) else None
        if not call_id:
            raise ProviderError("SuperU's answer holds no call_uuid or id.")
        return ProviderCall(call_id=str(call_id), raw=body)


# Simulated outcomes, chosen by the last digit of the number so a developer can see every path:
# ...9 never answers (retries, then dead letter), ...8 is an unreachable number, anything else answers.
SIMULATED_NO_ANSWER_DIGIT = "9"
SIMULATED_INVALID_DIGIT = "8"


def simulated_callback_body(call_id: str, request: CallRequest) -> dict[str, Any]:
    if request.to.endswith(SIMULATED_NO_ANSWER_DIGIT):
        return {"call_uuid": call_id, "status": "no_answer", "duration_seconds": 0}
    if request.to.endswith(SIMULATED_INVALID_DIGIT):
        return {"call_uuid": call_id, "status": "failed", "outcome": "invalid_number", "duration_seconds": 0}
    items = request.variable_values.get("items", "the items in the cart")
    code = request.variable_values.get("recovery_code", "")
    return {
        "call_uuid": call_id,
        "status": "completed",
        "outcome": "interested",
        "duration_seconds": 74,
        "summary": (
            f"(Simulated call) Reached {request.customer_name or 'the shopper'} about {items}. "
            f"They were interested and will finish the order with code {code}."
        ),
    }


# How the simulator's callback reaches the site later: set once by ``VoiceConfig.ready`` (to the Celery
# task of ``voice.tasks``), so providers know nothing of Celery. Takes the body and the config.
simulator_callback_scheduler: Callable[..., None] | None = None


class SimulatorProvider:
    """Answers like SuperU, then has a signed callback delivered to the site (see voice.tasks)."""

    name = "simulator"

    def __init__(self, config: VoiceConfig) -> None:
        self.config = config

    def place_call(self, request: CallRequest) -> ProviderCall:
        schedule = simulator_callback_scheduler
        if schedule is None:
            raise ProviderError("The simulator has no way to deliver its callback (voice app not ready).")
        call_id = f"sim-{uuid.uuid4()}"
        body = json.dumps(simulated_callback_body(call_id, request), separators=(",", ":"))
        logger.info("voice simulator: call %s to %s accepted", call_id, request.to)
        return ProviderCall(
            call_id=call_id,
            raw={"call_uuid": call_id, "status": "queued"},
            on_recorded=lambda: schedule(body=body, config=self.config),
        )


def provider_for(config: VoiceConfig) -> VoiceProvider:
    return SuperUProvider(config) if config.superu_enabled else SimulatorProvider(config)
