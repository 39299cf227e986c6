"""Block Kit checked as Slack checks it: slack_sdk's model limits plus the documented ones they skip."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
# Documented by Slack but not checked by slack_sdk's models (found by trying each limit against them).
FIELD_TEXT_LIMIT = 2000
INITIAL_VALUE_LIMIT = 3000
TEXT_OBJECT_LIMIT = 3000  # a text object as a context element; slack_sdk checks only a section's own
TEXT_TYPES = ("mrkdwn", "plain_text")
VIEW_TYPES = ("modal", "home")
PLAIN_TEXT_ONLY = ("header", "button")
# slack_sdk's constructors raise these on a component of the wrong shape; Slack refuses it as well.
MALFORMED = (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError)


def at(pointer: str, problem: str) -> str:
    """One problem worded as Slack words it, with the JSON pointer to the offending part."""
    return f"{problem} [json-pointer:{pointer}]"


def block_errors(blocks: Any, limit: int, pointer: str = "/blocks") -> list[str]:
    """What Slack would find wrong with a message's or view's blocks; empty when it would accept them."""
    if not isinstance(blocks, list):
        return [at(pointer, "must be an array")]
    errors = [at(pointer, f"must contain no more than {limit} items")] if len(blocks) > limit else []
    for index, block in enumerate(blocks):
        errors += one_block_errors(block, f"{pointer}/{index}")
    return errors + duplicate_block_ids(blocks, pointer)


def one_block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict):
        return [at(pointer, "must be an object")]
    try:
        parsed = Block.parse(block)
        # A block's own validate_json() skips its elements; to_dict() runs validate_json() at every level.
        checked = parsed.to_dict() if parsed is not None else None
    except MALFORMED as exc:
        return [at(pointer, str(exc))]
    if checked is None:
        return [at(f"{pointer}/type", f"unsupported block type: {block.get('type')!r}")]
    return unknown_elements(checked, pointer) + unchecked_limits(block, pointer)


def unknown_elements(value: Any, pointer: str) -> list[str]:
    """slack_sdk parses an element of unknown type to None and carries on; Slack refuses the block."""
    if value is None:
        return [at(pointer, "unsupported element type")]
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    return [error for key, item in items for error in unknown_elements(item, f"{pointer}/{key}")]


def unchecked_limits(block: dict[str, Any], pointer: str) -> list[str]:
    """The documented rules slack_sdk's models leave to Slack."""
    errors = empty_text(block, pointer)
    if block.get("type") == "section":
        errors += field_errors(block.get("fields") or [], f"{pointer}/fields")
    for where, component in components(block, pointer):
        errors += component_errors(component, where)
    return errors


def empty_text(block: dict[str, Any], pointer: str) -> list[str]:
    text = block.get("text")
    if block.get("type") in ("section", "header") and isinstance(text, dict) and text.get("text") == "":
        return [at(f"{pointer}/text/text", "must be more than 0 characters")]
    return []


def field_errors(fields: list[Any], pointer: str) -> list[str]:
    too_long = f"must be less than {FIELD_TEXT_LIMIT + 1} characters"
    return [
        at(f"{pointer}/{index}/text", too_long)
        for index, field in enumerate(fields)
        if isinstance(field, dict) and len(str(field.get("text", ""))) > FIELD_TEXT_LIMIT
    ]


def components(block: dict[str, Any], pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The block itself and the elements it holds, each with its JSON pointer."""
    yield pointer, block
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            yield f"{pointer}/{key}", block[key]
    for index, element in enumerate(block.get("elements") or []):
        if isinstance(element, dict):
            yield f"{pointer}/elements/{index}", element


def component_errors(component: dict[str, Any], pointer: str) -> list[str]:
    kind, text = component.get("type"), component.get("text")
    errors = []
    if kind in PLAIN_TEXT_ONLY and isinstance(text, dict) and text.get("type") != "plain_text":
        errors.append(at(f"{pointer}/text/type", "must be plain_text"))
    if kind in TEXT_TYPES and len(str(text)) > TEXT_OBJECT_LIMIT:
        errors.append(at(f"{pointer}/text", f"must be less than {TEXT_OBJECT_LIMIT + 1} characters"))
    if kind == "plain_text_input" and len(str(component.get("initial_value") or "")) > INITIAL_VALUE_LIMIT:
        errors.append(
            at(f"{pointer}/initial_value", f"must be less than {INITIAL_VALUE_LIMIT + 1} characters")
        )
    return errors


def duplicate_block_ids(blocks: list[Any], pointer: str) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if not isinstance(block_id, str):
            continue
        if block_id in seen:
            errors.append(at(f"{pointer}/{index}/block_id", f"duplicate block_id: {block_id!r}"))
        seen.add(block_id)
    return errors


def view_errors(view: Any) -> list[str]:
    """What Slack would find wrong with the view of views.open, views.update or views.publish."""
    if not isinstance(view, dict):
        return [at("/view", "must be an object")]
    return view_field_errors(view) + block_errors(view.get("blocks"), VIEW_BLOCK_LIMIT, "/view/blocks")


def view_field_errors(view: dict[str, Any]) -> list[str]:
    if view.get("type") not in VIEW_TYPES:
        return [at("/view/type", f"must be one of {', '.join(VIEW_TYPES)}")]
    if view["type"] == "modal" and not view.get("title"):
        return [at("/view/title", "missing required field: title")]
    try:
        parsed = View(**{**view, "blocks": None})
        # Blocks are checked on their own, block by block; slack_sdk would also refuse an empty list.
        parsed.blocks = None  # type: ignore[assignment]
        parsed.validate_json()
    except MALFORMED as exc:
        return [at("/view", str(exc))]
    return []
