"""Slack Block Kit as safe HTML for the playground page: message blocks, buttons and a modal's form fields."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from bot.demo.mrkdwn import (
    Viewer,
    dicts_of,
    esc,
    mrkdwn_to_html,
    plain_to_html,
    rich_text_to_html,
    safe_href,
    str_of,
)

__all__ = ["Viewer", "mrkdwn_to_html", "plain_to_html", "render_blocks", "render_message", "render_view_body"]

Json = Mapping[str, Any]
Errors = Mapping[str, str]
Attr = tuple[str, str | bool | None]

_BUTTON_STYLES = {"primary": "bk-primary", "danger": "bk-danger"}
# Element type -> (<input type>, the key holding its initial value).
_TEXT_INPUTS = {
    "plain_text_input": ("text", "initial_value"),
    "email_text_input": ("email", "initial_value"),
    "url_text_input": ("url", "initial_value"),
    "number_input": ("number", "initial_value"),
    "datepicker": ("date", "initial_date"),
    "timepicker": ("time", "initial_time"),
}


def render_message(text: str, blocks: Sequence[Json] | None, viewer: Viewer) -> Markup:
    """Slack shows a message's `text` only when it has no blocks."""
    return render_blocks(blocks, viewer) if blocks else mrkdwn_to_html(text, viewer)


def render_blocks(blocks: Sequence[Json], viewer: Viewer) -> Markup:
    return Markup("".join(_block(block, viewer, {}) for block in dicts_of(blocks)))


def render_view_body(view: Json, viewer: Viewer, errors: Errors | None = None) -> Markup:
    """A modal's blocks, input blocks as form fields with `errors` (block_id -> message) under them."""
    return Markup("".join(_block(block, viewer, errors or {}) for block in dicts_of(view.get("blocks"))))


def _maybe(obj: Json, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _text(obj: Any, viewer: Viewer) -> str:
    """A text object: mrkdwn rendered, plain_text escaped; anything else is empty."""
    if not isinstance(obj, Mapping):
        return ""
    text = str_of(obj, "text")
    return str(mrkdwn_to_html(text, viewer) if obj.get("type") == "mrkdwn" else plain_to_html(text))


def _tag(name: str, attrs: Sequence[Attr], inner: str | None = None) -> str:
    """An element; True writes a bare attribute, None and False leave it out, strings are escaped."""
    written = "".join(
        f" {key}" if value is True else f' {key}="{esc(value)}"'
        for key, value in attrs
        if isinstance(value, str) or value is True
    )
    return f"<{name}{written}>" if inner is None else f"<{name}{written}>{inner}</{name}>"


def _note(text: str) -> str:
    return f'<span class="bk-note">{esc(text)}</span>'


def _block(block: Json, viewer: Viewer, errors: Errors) -> str:
    kind = str_of(block, "type")
    render = _BLOCKS.get(kind)
    inner = _note(f"[{kind or 'untyped'} block]") if render is None else render(block, viewer, errors)
    css = "unknown" if render is None else kind
    return f'<div class="bk-block bk-{css}" data-block-id="{esc(str_of(block, "block_id"))}">{inner}</div>'


def _header(block: Json, viewer: Viewer, errors: Errors) -> str:
    return f'<h3 class="bk-header">{_text(block.get("text"), viewer)}</h3>'


def _section(block: Json, viewer: Viewer, errors: Errors) -> str:
    parts = []
    if text := _text(block.get("text"), viewer):
        parts.append(f'<div class="bk-section-text">{text}</div>')
    if fields := "".join(f"<div>{_text(item, viewer)}</div>" for item in dicts_of(block.get("fields"))):
        parts.append(f'<div class="bk-fields">{fields}</div>')
    if isinstance(accessory := block.get("accessory"), Mapping):
        parts.append(f'<div class="bk-accessory">{_element(accessory, str_of(block, "block_id"))}</div>')
    return "".join(parts)


def _divider(block: Json, viewer: Viewer, errors: Errors) -> str:
    return "<hr>"


def _context(block: Json, viewer: Viewer, errors: Errors) -> str:
    return "".join(
        _image_tag(item, "bk-context-image")
        if item.get("type") == "image"
        else f"<span>{_text(item, viewer)}</span>"
        for item in dicts_of(block.get("elements"))
    )


def _image(block: Json, viewer: Viewer, errors: Errors) -> str:
    title = block.get("title")
    caption = (
        f'<div class="bk-image-title">{_text(title, viewer)}</div>' if isinstance(title, Mapping) else ""
    )
    return caption + _image_tag(block, "bk-image")


def _image_tag(element: Json, css: str) -> str:
    src, alt = safe_href(str_of(element, "image_url"), web_only=True), str_of(element, "alt_text")
    if src is None:
        return _note(f"[image: {alt}]")
    return _tag("img", [("class", css), ("src", src), ("alt", alt), ("loading", "lazy")])


def _actions(block: Json, viewer: Viewer, errors: Errors) -> str:
    return "".join(_element(item, str_of(block, "block_id")) for item in dicts_of(block.get("elements")))


def _element(element: Json, block_id: str) -> str:
    """An interactive element in a message; only buttons act, the others are shown disabled."""
    kind = str_of(element, "type")
    if kind == "button":
        return _button(element, block_id)
    if kind == "image":
        return _image_tag(element, "bk-accessory-image")
    if kind == "overflow" or kind.endswith("select"):
        prompt = "…" if kind == "overflow" else str_of(element.get("placeholder"), "text")
        return _tag("select", [("class", "bk-select"), ("disabled", True)], _options(element, prompt, set()))
    if kind in _TEXT_INPUTS:
        html_type, initial = _TEXT_INPUTS[kind]
        return _tag("input", [("type", html_type), ("value", _maybe(element, initial)), ("disabled", True)])
    return _note(f"[{kind}]")


def _button(element: Json, block_id: str) -> str:
    label = esc(str_of(element.get("text"), "text"))
    href = safe_href(str_of(element, "url"), web_only=True)
    if href is not None:
        attrs: list[Attr] = [("class", "bk-button bk-link"), ("href", href)]
        return _tag("a", [*attrs, ("target", "_blank"), ("rel", "noopener noreferrer")], label)
    confirm = element.get("confirm")
    return _tag(
        "button",
        [
            ("type", "button"),
            ("class", f"bk-button {_BUTTON_STYLES.get(str_of(element, 'style'), 'bk-default')}"),
            ("data-action-id", str_of(element, "action_id")),
            ("data-block-id", block_id),
            ("data-value", _maybe(element, "value")),
            ("data-confirm", json.dumps(confirm, default=str) if isinstance(confirm, Mapping) else None),
        ],
        label,
    )


def _options(element: Json, prompt: str, chosen: set[str]) -> str:
    """<option>s for a select, option_groups flattened, led by an empty prompt option when there is one."""
    flat = dicts_of(element.get("options"))
    for group in dicts_of(element.get("option_groups")):
        flat += dicts_of(group.get("options"))
    lead = _tag("option", [("value", "")], esc(prompt)) if prompt else ""
    return lead + "".join(_option(option, chosen) for option in flat)


def _option(option: Json, chosen: set[str]) -> str:
    value = str_of(option, "value")
    return _tag(
        "option", [("value", value), ("selected", value in chosen)], esc(str_of(option.get("text"), "text"))
    )


def _initial_values(element: Json) -> set[str]:
    initial = element.get("initial_options")
    picked = [element.get("initial_option"), *(initial if isinstance(initial, list) else [])]
    return {str_of(option, "value") for option in picked} - {""}


def _input(block: Json, viewer: Viewer, errors: Errors) -> str:
    block_id = str_of(block, "block_id")
    element = block.get("element")
    parts = [
        f"<label>{_text(block.get('label'), viewer)}</label>",
        _field(element, block_id, block.get("optional") is not True, viewer)
        if isinstance(element, Mapping)
        else "",
    ]
    if hint := _text(block.get("hint"), viewer):
        parts.append(f'<div class="bk-hint">{hint}</div>')
    if error := errors.get(block_id):
        parts.append(f'<div class="bk-error">{esc(error)}</div>')
    return "".join(parts)


def _field(element: Json, block_id: str, required: bool, viewer: Viewer) -> str:
    """A form field carrying the data-* attributes the page reads back into view_submission values."""
    kind = str_of(element, "type")
    data: list[Attr] = [
        ("class", "bk-field"),
        ("data-block-id", block_id),
        ("data-action-id", str_of(element, "action_id")),
        ("data-type", kind),
    ]
    placeholder = str_of(element.get("placeholder"), "text")
    if kind in ("checkboxes", "radio_buttons"):
        return _choices(element, block_id, data, required, viewer)
    if kind in ("static_select", "multi_static_select"):
        multiple = kind == "multi_static_select"
        options = _options(element, "" if multiple else placeholder or "Choose…", _initial_values(element))
        return _tag("select", [*data, ("multiple", multiple), ("required", required)], options)
    if kind == "plain_text_input" and element.get("multiline") is True:
        attrs = [*data, ("placeholder", placeholder or None), ("required", required)]
        return _tag("textarea", attrs, esc(str_of(element, "initial_value")))
    if kind in _TEXT_INPUTS:
        return _text_input(element, data, placeholder, required)
    return _note(f"[{kind} input]")


def _text_input(element: Json, data: list[Attr], placeholder: str, required: bool) -> str:
    html_type, initial = _TEXT_INPUTS[str_of(element, "type")]
    max_length = element.get("max_length")
    return _tag(
        "input",
        [
            ("type", html_type),
            *data,
            ("value", _maybe(element, initial)),
            ("placeholder", placeholder or None),
            ("maxlength", str(max_length) if isinstance(max_length, int) else None),
            ("step", "any" if element.get("is_decimal_allowed") is True else None),
            ("required", required),
        ],
    )


def _choices(element: Json, block_id: str, data: list[Attr], required: bool, viewer: Viewer) -> str:
    """Checkboxes or radio buttons, one bk-field per option (radios share a name so only one is picked)."""
    radio = str_of(element, "type") == "radio_buttons"
    chosen = _initial_values(element)
    name = f"{block_id}/{str_of(element, 'action_id')}"
    items = []
    for option in dicts_of(element.get("options")):
        value = str_of(option, "value")
        attrs: list[Attr] = [
            ("type", "radio" if radio else "checkbox"),
            *data,
            ("name", name),
            ("value", value),
        ]
        box = _tag("input", [*attrs, ("checked", value in chosen), ("required", radio and required)])
        items.append(f'<label class="bk-choice">{box} {_text(option.get("text"), viewer)}</label>')
    return f'<div class="bk-choices">{"".join(items)}</div>'


def _rich_text(block: Json, viewer: Viewer, errors: Errors) -> str:
    return rich_text_to_html(block.get("elements"), viewer)


_BLOCKS: dict[str, Callable[[Json, Viewer, Errors], str]] = {
    "header": _header,
    "section": _section,
    "divider": _divider,
    "context": _context,
    "image": _image,
    "actions": _actions,
    "input": _input,
    "rich_text": _rich_text,
}
