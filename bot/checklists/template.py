"""Checklist templates: Markdown with a YAML front matter, parsed with every problem's line number."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.config import ROLES as OWNER_ROLES

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
ITEM = re.compile(r"^[-*+]\s+\[(?P<mark>.)\]\s*(?P<rest>.*)$")
ANNOTATION = re.compile(r"\s*\((?P<body>owner:\s*[^()]*|approval)\)\s*$", re.IGNORECASE)
USER = re.compile(r"^<@([UW][A-Z0-9]{2,31})(\|[^>]*)?>$")  # a Slack user id, at most 32 characters
MAX_ITEMS = 100
MAX_ITEM_TEXT = 300
MAX_HEADING = 255  # the title and each section: what the database keeps of them
MAX_BYTES = 64_000


@dataclass(frozen=True)
class ItemSpec:
    """One `- [ ]` line: where it is, what it says, and who may sign it."""

    position: int  # 1-based, in template order
    section: str
    text: str
    owner: str | None  # a role name from iris.yml, or a Slack user id; None: anyone
    approval: bool
    line: int


@dataclass(frozen=True)
class Template:
    name: str
    version: str
    description: str
    title: str
    items: tuple[ItemSpec, ...]
    content_hash: str
    source: str = field(repr=False)

    @property
    def sections(self) -> list[str]:
        return list(dict.fromkeys(item.section for item in self.items))

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


class TemplateError(Exception):
    """A template that does not parse; `errors` are sentences starting with their line number."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(errors))
        self.source = source
        self.errors = errors


def content_hash(text: str) -> str:
    """The version's identity: the SHA-256 of the text with its line endings made uniform."""
    return hashlib.sha256(_normal(text).encode("utf-8")).hexdigest()


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_template(path: Path) -> Template:
    try:
        with path.open("rb") as handle:  # one byte past the limit at most: /dev/zero is refused too
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise TemplateError(path.name, [f"cannot be read ({exc.strerror})"]) from None
    if len(raw) > MAX_BYTES:
        raise TemplateError(path.name, [f"is larger than {MAX_BYTES // 1000} kB"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateError(path.name, ["is not UTF-8 text"]) from None
    return parse_template(text, path.name)


def parse_template(text: str, source: str = "template") -> Template:
    lines = _normal(text).split("\n")
    # PostgreSQL stores no NUL, and the whole file is kept to compare versions.
    errors = [f"line {n}: contains a NUL character" for n, line in enumerate(lines, 1) if "\x00" in line]
    meta, body_start = _front_matter(lines, errors)
    title, items = _body(lines, body_start, errors)
    name, version, description = _meta_fields(meta, _key_lines(lines, body_start), errors)
    _check_items(items, body_start, errors)
    if errors:
        raise TemplateError(source, sorted(errors, key=_line_number))
    return Template(
        name=name,
        version=version,
        description=description,
        title=title or name,
        items=tuple(items),
        content_hash=content_hash(text),
        source=_normal(text),
    )


def _line_number(error: str) -> int:
    match = re.match(r"line (\d+):", error)
    return int(match.group(1)) if match else 0


def _front_matter(lines: list[str], errors: list[str]) -> tuple[dict[str, object], int]:
    """The `---` block at the top; returns its mapping and the index of the first body line."""
    if not lines or lines[0].strip() != "---":
        errors.append("line 1: a template starts with a `---` front matter block (name, version)")
        return {}, 0
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return _yaml_mapping("\n".join(lines[1:index]), errors), index + 1
    errors.append("line 1: the front matter opened here is never closed with `---`")
    return {}, len(lines)


def _yaml_mapping(text: str, errors: list[str]) -> dict[str, object]:
    try:
        loaded = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        errors.append(f"line {mark.line + 2 if mark else 2}: the front matter is not valid YAML")
        return {}
    if not isinstance(loaded, dict):
        errors.append("line 2: the front matter must be keys such as `name: …` and `version: …`")
        return {}
    return loaded


def _key_lines(lines: list[str], body_start: int) -> dict[str, int]:
    """Where each front matter key is written; a missing key is reported at the closing `---`."""
    found = {"": max(body_start, 1)}
    for index in range(1, max(body_start - 1, 1)):
        key = lines[index].split(":", 1)[0].strip()
        if key and not lines[index].startswith((" ", "\t")):
            found.setdefault(key, index + 1)
    return found


def _meta_fields(meta: dict[str, object], at: dict[str, int], errors: list[str]) -> tuple[str, str, str]:
    for key in meta:
        if key not in ("name", "version", "description"):
            errors.append(
                f"line {at.get(str(key), at[''])}: unknown front matter key `{key}` "
                "(allowed: name, version, description)"
            )
    name, version = str(meta.get("name") or ""), str(meta.get("version") or "")
    if not NAME.match(name):
        errors.append(
            f"line {at.get('name', at[''])}: `name` is required: lowercase letters, digits, `.`, `_` or `-`"
        )
    if isinstance(meta.get("version"), float):  # YAML reads an unquoted 1.10 as the number 1.1
        errors.append(
            f'line {at.get("version", at[""])}: quote the version, as in `version: "1.10"`; '
            "unquoted, YAML reads it as a number (1.10 becomes 1.1)"
        )
    elif not VERSION.match(version):
        errors.append(f'line {at.get("version", at[""])}: `version` is required, e.g. `version: "1.2"`')
    return name, version, str(meta.get("description") or "")


def _body(lines: list[str], start: int, errors: list[str]) -> tuple[str, list[ItemSpec]]:
    title, section = "", ""
    items: list[ItemSpec] = []
    for index in range(start, len(lines)):
        number, line = index + 1, lines[index].strip()
        if not line or line.startswith("<!--"):
            continue
        if line.startswith("#") and len(line.lstrip("#").strip()) > MAX_HEADING:
            errors.append(f"line {number}: a heading has at most {MAX_HEADING} characters")
            continue
        if line.startswith("# "):
            if title or items or section:
                errors.append(f"line {number}: only one `# ` title, before the first section")
            title = line[2:].strip()
        elif line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("#"):
            errors.append(f"line {number}: sections are `## ` headings; deeper headings are not used")
        elif line[0] in "-*+":
            item = _item(line, number, section, len(items) + 1, errors)
            if item is not None:
                items.append(item)
        # Any other line is prose for the people reading the file, as in a README.
    return title, items


def _item(line: str, number: int, section: str, position: int, errors: list[str]) -> ItemSpec | None:
    match = ITEM.match(line)
    if match is None:
        errors.append(f"line {number}: a list line must be an item `- [ ] what to do`")
        return None
    if match.group("mark") != " ":
        errors.append(f"line {number}: items in a template are unchecked `- [ ]`; sign-offs happen in Slack")
        return None
    if not section:
        errors.append(f"line {number}: this item comes before any `## ` section")
        return None
    text, owner, approval = _annotations(match.group("rest").strip(), number, errors)
    if not text:
        errors.append(f"line {number}: the item has no text")
    elif len(text) > MAX_ITEM_TEXT:
        errors.append(f"line {number}: the item is longer than {MAX_ITEM_TEXT} characters")
    return ItemSpec(position, section, text, owner, approval, number)


def _annotations(rest: str, number: int, errors: list[str]) -> tuple[str, str | None, bool]:
    """Trailing `(owner: …)` and `(approval)`, in either order."""
    owner, approval = None, False
    while (match := ANNOTATION.search(rest)) is not None:
        body, rest = match.group("body").strip(), rest[: match.start()].rstrip()
        if body.lower() == "approval":
            approval = True
        else:
            owner = _owner(body.split(":", 1)[1].strip(), number, errors)
    return rest, owner, approval


def _owner(value: str, number: int, errors: list[str]) -> str | None:
    user = USER.match(value)
    if user:
        return user.group(1)
    if value in OWNER_ROLES:
        return value
    errors.append(
        f"line {number}: owner `{value}` is neither a role ({', '.join(OWNER_ROLES)}) "
        "nor a user mention such as `<@U024BE7LH>`"
    )
    return None


def _check_items(items: list[ItemSpec], body_start: int, errors: list[str]) -> None:
    if not items:
        errors.append(f"line {body_start + 1}: the template has no `- [ ]` items")
    if len(items) > MAX_ITEMS:
        errors.append(f"line {items[MAX_ITEMS].line}: a template has at most {MAX_ITEMS} items")
    approvals = [item for item in items if item.approval]
    for extra in approvals[1:]:
        errors.append(
            f"line {extra.line}: only one item can be the `(approval)` step "
            f"(line {approvals[0].line} already is)"
        )
    seen: dict[tuple[str, str], int] = {}
    for item in items:
        key = (item.section, item.text.casefold())
        if key in seen:
            errors.append(f"line {item.line}: the same item as line {seen[key]} in section {item.section}")
        seen.setdefault(key, item.line)


def find_templates(folder: Path) -> list[tuple[Path, Template | TemplateError]]:
    """Every `*.md` of the folder, valid or not, in name order."""
    if not folder.is_dir():
        return []
    found: list[tuple[Path, Template | TemplateError]] = []
    for path in sorted(folder.glob("*.md")):
        try:
            found.append((path, load_template(path)))
        except TemplateError as exc:
            found.append((path, exc))
    return found
