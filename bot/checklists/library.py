"""The template library: the checklists folder of iris.yml, and every version ever loaded from it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.checklists.diff import TemplateDiff, diff_templates, version_key
from bot.checklists.rules import Refused
from bot.checklists.template import Template, TemplateError, find_templates, parse_template
from bot.i18n import N_
from storage import checklists as repo
from storage.checklists import ChecklistTemplate
from storage.db import session_scope

HASH_PREFIX = re.compile(r"^[0-9a-f]{6,64}$")


@dataclass(frozen=True)
class Listing:
    valid: list[Template]
    broken: list[tuple[Path, TemplateError]]


class TemplateLibrary:
    def __init__(self, engine: Engine, folder: Path) -> None:
        self._engine = engine
        self.folder = folder

    def scan(self) -> Listing:
        """Read the folder; every valid file's version is stored (once per content hash)."""
        found = find_templates(self.folder)
        valid = [t for _, t in found if isinstance(t, Template)]
        broken = [(path, t) for path, t in found if isinstance(t, TemplateError)]
        valid.sort(key=lambda t: (t.name, version_key(t.version)))  # older first: each is compared to one
        with session_scope(self._engine) as session:
            for template in valid:
                self._remember(session, template)
        return Listing(valid, broken)

    @staticmethod
    def _remember(session: Session, template: Template) -> ChecklistTemplate:
        """The stored row of this content; a version seen for the first time keeps what changed."""
        found = repo.template_by_hash(session, template.name, template.content_hash)
        if found is not None:
            return found
        return repo.remember_template(
            session,
            name=template.name,
            version=template.version,
            content_hash=template.content_hash,
            item_count=len(template.items),
            source=template.source,
            changes=_changes_since_previous(session, template),
        )

    def for_start(self, reference: str) -> tuple[Template, ChecklistTemplate]:
        """`name` (its highest version in the folder) or `name@version`, with its stored row."""
        name, _, version = reference.partition("@")
        listing = self.scan()
        candidates = [t for t in listing.valid if t.name == name and (not version or t.version == version)]
        if not candidates:
            self._explain_missing(listing, name, version)
        template = candidates[-1]
        twins = {t.content_hash for t in candidates if t.version == template.version}
        if len(twins) > 1:
            raise Refused(
                N_(
                    "Two files in the checklists folder define {name} v{version} differently; keep "
                    "one of them."
                ),
                name=name,
                version=template.version,
            )
        with session_scope(self._engine) as session:
            row = self._remember(session, template)
        return template, row

    def _explain_missing(self, listing: Listing, name: str, version: str) -> None:
        broken = [path.name for path, error in listing.broken if path.stem.startswith(name)]
        if broken:
            raise Refused(
                N_("Template file {file} does not parse; `iris checklist check {file}` lists its problems."),
                file=broken[0],
            )
        if version and any(t.name == name for t in listing.valid):
            raise Refused(
                N_("Template {name} has no version {version} in the checklists folder."),
                name=name,
                version=version,
            )
        raise Refused(
            N_(
                "There is no template {name} in the checklists folder; "
                "`/iris checklist templates` lists them."
            ),
            name=name,
        )

    def diff(self, name: str, before: str | None, after: str | None) -> TemplateDiff:
        """Compare two stored versions; by default the newest against the one before it."""
        self.scan()
        with session_scope(self._engine) as session:
            rows = sorted(
                repo.template_versions(session, name),
                key=lambda r: (version_key(r.version), r.first_seen_at, r.id or 0),
            )
        if not rows:
            raise Refused(
                N_(
                    "There is no template {name} in the checklists folder; "
                    "`/iris checklist templates` lists them."
                ),
                name=name,
            )
        newer = self._pick(rows, after, name) if after else rows[-1]
        if before:
            older = self._pick(rows, before, name)
        else:
            earlier = rows[: rows.index(newer)]
            if not earlier:
                raise Refused(
                    N_("Template {name} has only one version so far ({version})."),
                    name=name,
                    version=newer.version,
                )
            older = earlier[-1]
        return diff_templates(parse_template(older.source, name), parse_template(newer.source, name))

    @staticmethod
    def _pick(rows: list[ChecklistTemplate], reference: str, name: str) -> ChecklistTemplate:
        reference = reference.removeprefix("v")
        by_version = [r for r in rows if r.version == reference]
        if by_version:
            return by_version[-1]
        if HASH_PREFIX.match(reference):
            by_hash = [r for r in rows if r.content_hash.startswith(reference)]
            if by_hash:
                return by_hash[-1]
        raise Refused(
            N_("Template {name} has no version {version}; known: {known}."),
            name=name,
            version=reference,
            known=", ".join(dict.fromkeys(r.version for r in rows)),
        )


def _changes_since_previous(session: Session, template: Template) -> str | None:
    """What changed since the highest stored version below this one, as the day's report shows it."""
    earlier = [
        row
        for row in repo.template_versions(session, template.name)
        if version_key(row.version) < version_key(template.version)
    ]
    if not earlier:
        return None
    previous = max(earlier, key=lambda row: (version_key(row.version), row.first_seen_at, row.id or 0))
    found = diff_templates(parse_template(previous.source, template.name), template)
    return json.dumps(
        {
            "from": previous.version,
            "from_items": len(found.before.items),
            "added": [item.text for item in found.added],
            "removed": [item.text for item in found.removed],
            "reworded": [[old.text, new.text] for old, new in found.reworded],
        },
        ensure_ascii=False,
    )
