"""The registry every way of acting goes through: the chat's rules, a model's tool calls and the MCP server.

A tool is a function ``(ctx: ToolContext, *, arg: type = default, ...) -> ToolResult`` registered with
:func:`tool`, which records its name, the intent it serves, a description written for a model and the
JSON Schema of its arguments. The schema must match the typed signature (checked when the tool is
registered, and by a test over every tool): the executor validates arguments against it before calling
anything, so a tool never sees an argument it did not declare or a value of the wrong type.

Each tool calls the apps' services and selectors with ``ctx.shopper`` -- the session's own shopper --
and nothing else: no tool takes a user id, so a message (or a model) can never act on another
shopper's data. A ``DomainError`` from a service becomes a failed result carrying the service's message.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import jsonschema
from django.urls import reverse

from carts.models import Cart
from catalog.models import Product
from catalog.serializers import product_to_dict
from commerce.accounts.shoppers import Shopper
from commerce.errors import DomainError
from conversations.assistant.reply import FAILED, Link
from conversations.assistant.state import State
from conversations.models import Conversation
from conversations.services import ReceivedMessage

MAX_PRODUCTS_SHOWN = 5


@dataclass
class ToolContext:
    """Who is acting (the session's shopper, never someone named in the text), the dialogue state, and
    the conversation and channel a ticket attaches to, and the shopper's message being served (not yet
    written: a tool that quotes the conversation's history adds it, as a ticket's transcript does)."""

    shopper: Shopper
    state: State
    conversation: Conversation | None = None
    channel: str = "web"
    received: ReceivedMessage | None = None


@dataclass
class ToolResult:
    status: str  # succeeded, failed, skipped, needs_confirmation
    detail: str  # the Action's detail: what happened, for the record
    text: str = ""  # what the shopper is told (defaults to the detail)
    products: list[dict[str, Any]] = field(default_factory=list)
    cart: Cart | None = None  # set when the tool changed or showed the cart
    # the cart above is as it stands after the tool, loaded by ``cart_with_lines()`` (lines, their
    # variants and products, the discount): the reply's cart is built from it without reading it again
    cart_loaded: bool = False
    links: list[Link] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return self.text or self.detail


@dataclass
class Preview:
    """What a confirm=True tool will run on "yes", and the question that says so."""

    args: dict[str, Any]
    question: str


@dataclass(frozen=True)
class Tool:
    name: str
    intent: str  # the Action's ``type`` when this tool runs (the intent it serves)
    description: str
    input_schema: dict[str, Any]
    confirm: bool
    func: Callable[..., ToolResult]
    signature_of: Callable[..., Any]  # the undecorated function, for the schema check
    # For confirm=True tools: checks and resolves the arguments before the question is asked, so
    # "cancel order X" for an order that is not the shopper's is "not found" at once, not after "yes".
    prepare: Callable[..., Preview | ToolResult] | None = None

    def __call__(self, ctx: ToolContext, **args: Any) -> ToolResult:
        return self.func(ctx, **args)

    def as_schema(self) -> dict[str, Any]:
        """The tool as a function-calling declaration (name, description, JSON Schema)."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}


class Unresolved(Exception):
    """Raised by a tool (or a helper it calls) with the result to answer instead: not found, which
    one?, sign in first."""

    def __init__(self, result: ToolResult) -> None:
        self.result = result


class InvalidArguments(ValueError):
    """Arguments that do not fit a tool's schema; ``reason`` says which and why, for the record, and
    ``field`` names the argument (``arguments`` when it is the whole object)."""

    def __init__(self, reason: str, field: str = "arguments") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def failed(exc: DomainError) -> ToolResult:
    return ToolResult(FAILED, exc.message)


def _answering(func: Callable[..., Any]) -> Callable[..., Any]:
    """A tool or preview as registered: an ``Unresolved`` becomes its result and a service's
    ``DomainError`` a failed result with the service's own message."""

    @functools.wraps(func)
    def run(ctx: ToolContext, **args: Any) -> Any:
        try:
            return func(ctx, **args)
        except Unresolved as exc:
            return exc.result
        except DomainError as exc:
            return failed(exc)

    return run


REGISTRY: dict[str, Tool] = {}

_JSON_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    bool: "boolean",
    dict: "object",
    list: "array",
    float: "number",
}


def _json_type(annotation: Any) -> str | None:
    """The JSON Schema type of a parameter's annotation (``str | None`` is ``string``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _json_type(members[0]) if len(members) == 1 else None
    return _JSON_TYPES.get(origin or annotation)


def schema_mismatches(func: Callable[..., Any], schema: dict[str, Any]) -> list[str]:
    """How a tool's JSON Schema differs from its typed signature (empty when they agree): the same
    argument names, the same JSON types, and ``required`` exactly the arguments without a default."""
    problems: list[str] = []
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        problems.append('the schema must be {"type": "object", "additionalProperties": false, ...}')
    hints = typing.get_type_hints(func)
    params = [p for p in inspect.signature(func).parameters.values() if p.name != "ctx"]
    if any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params):
        problems.append("a tool declares every argument by name (no *args or **kwargs)")
    properties = schema.get("properties", {})
    declared = {p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    if set(properties) != declared:
        problems.append(f"schema properties {sorted(properties)} != arguments {sorted(declared)}")
    for p in params:
        if p.name not in properties:
            continue
        expected = _json_type(hints.get(p.name))
        if expected is None or properties[p.name].get("type") != expected:
            problems.append(
                f"{p.name}: schema type {properties[p.name].get('type')!r}, annotation {expected!r}"
            )
    required = {p.name for p in params if p.default is inspect.Parameter.empty}
    if set(schema.get("required", [])) != required:
        problems.append(
            f"required {sorted(schema.get('required', []))} != arguments without a default {sorted(required)}"
        )
    return problems


def tool(
    name: str,
    description: str,
    input_schema: dict[str, Any],
    *,
    intent: str | None = None,
    confirm: bool = False,
) -> Callable[[Callable[..., ToolResult]], Callable[..., ToolResult]]:
    """Registers a tool. ``confirm=True``: the executor asks the shopper before running it, and only
    the shopper's own "yes" in a later message runs it."""

    def register(func: Callable[..., ToolResult]) -> Callable[..., ToolResult]:
        if name in REGISTRY:
            raise ValueError(f"Tool {name!r} is registered twice.")
        problems = schema_mismatches(func, input_schema)
        if problems:
            raise TypeError(f"Tool {name!r}: its schema does not match its signature: {'; '.join(problems)}")
        answering = _answering(func)
        REGISTRY[name] = Tool(
            name=name,
            intent=intent or name,
            description=description,
            input_schema=input_schema,
            confirm=confirm,
            func=answering,
            signature_of=func,
        )
        return answering

    return register


def preview_for(
    name: str,
) -> Callable[[Callable[..., Preview | ToolResult]], Callable[..., Preview | ToolResult]]:
    """Registers the ``prepare`` step of the confirm=True tool ``name``."""

    def register(func: Callable[..., Preview | ToolResult]) -> Callable[..., Preview | ToolResult]:
        answering = _answering(func)
        REGISTRY[name] = replace(REGISTRY[name], prepare=answering)
        return answering

    return register


def get_tool(name: str) -> Tool:
    return REGISTRY[name]


def tool_schemas() -> list[dict[str, Any]]:
    return [t.as_schema() for t in REGISTRY.values()]


def validated_args(tool_: Tool, args: Any) -> dict[str, Any]:
    """``args`` checked against the tool's schema; a ``null`` counts as not given. Raises
    ``InvalidArguments`` naming the first problem."""
    return schema_validated(tool_.name, tool_.input_schema, args)


def schema_validated(name: str, schema: dict[str, Any], args: Any) -> dict[str, Any]:
    """``args`` checked against ``schema`` (the chat's tools and the MCP server's alike)."""
    if not isinstance(args, dict):
        raise InvalidArguments(f"{name}: arguments must be a JSON object.")
    cleaned = {k: v for k, v in args.items() if v is not None}
    error = jsonschema.exceptions.best_match(_validator(name, schema).iter_errors(cleaned))
    if error is not None:  # the same error jsonschema.validate would raise
        where = ".".join(str(p) for p in error.absolute_path) or "arguments"
        raise InvalidArguments(f"{name}: {where}: {error.message}", where)
    return cleaned


# A validator per schema, built once: jsonschema.validate() checks the schema itself and builds a new
# validator on every call, which cost more than the rest of a chat turn's rules work.
_validators: dict[str, tuple[dict[str, Any], Any]] = {}


def _validator(name: str, schema: dict[str, Any]) -> Any:
    cached = _validators.get(name)
    if cached is not None and cached[0] is schema:
        return cached[1]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    _validators[name] = (schema, validator)
    return validator


# --- helpers several domains share ----------------------------------------------------------------


def show(ctx: ToolContext, products: list[Product], **options: Any) -> list[dict[str, Any]]:
    """Products to answer with; they become what "the second one" means (``options``: the size and
    colour searched with)."""
    return show_dicts(ctx, [product_to_dict(p) for p in products], **options)


def show_dicts(ctx: ToolContext, products: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    """:func:`show` for products already in the contract's JSON shape."""
    ctx.state.show([int(p["id"]) for p in products], **options)
    return products


def sign_in_link(next_url: str) -> Link:
    return Link("Sign in", f"{reverse('accounts:login')}?next={next_url}")


def jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in args.items() if v is not None}


def given(**args: Any) -> dict[str, Any]:
    """The arguments a call actually gave (None and "" are "not given")."""
    return {k: v for k, v in args.items() if v not in (None, "")}


def items(count: int) -> str:
    return f"{count} item{'' if count == 1 else 's'}"


def object_schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A tool's argument schema: only these properties, nothing else accepted."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema
