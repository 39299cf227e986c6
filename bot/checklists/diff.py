"""What changed between two versions of a template: added, removed and reworded items."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.checklists.template import ItemSpec, Template

REWORDED_AT_LEAST = 0.6  # similarity (difflib ratio) for a changed line to count as the same item


@dataclass(frozen=True)
class TemplateDiff:
    before: Template
    after: Template
    added: list[ItemSpec]
    removed: list[ItemSpec]
    reworded: list[tuple[ItemSpec, ItemSpec]]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.reworded)


def diff_templates(before: Template, after: Template) -> TemplateDiff:
    """Items match when their words match (case and spacing aside); the rest pair up by likeness."""
    after_keys = {_key(item) for item in after.items}
    before_keys = {_key(item) for item in before.items}
    gone = [item for item in before.items if _key(item) not in after_keys]
    new = [item for item in after.items if _key(item) not in before_keys]
    reworded = _pair_reworded(gone, new)
    paired_old = {id(old) for old, _ in reworded}
    paired_new = {id(new_item) for _, new_item in reworded}
    return TemplateDiff(
        before,
        after,
        added=[item for item in new if id(item) not in paired_new],
        removed=[item for item in gone if id(item) not in paired_old],
        reworded=reworded,
    )


def _key(item: ItemSpec) -> str:
    return re.sub(r"\s+", " ", item.text).strip().casefold()


def _pair_reworded(gone: list[ItemSpec], new: list[ItemSpec]) -> list[tuple[ItemSpec, ItemSpec]]:
    """Greedy, best likeness first; an item in the same section wins a tie."""
    scored = []
    for old in gone:
        for candidate in new:
            ratio = _likeness(_key(old), _key(candidate))
            if ratio >= REWORDED_AT_LEAST:
                scored.append((ratio, old.section == candidate.section, old, candidate))
    scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    pairs, used_old, used_new = [], set(), set()
    for _, _, old, candidate in scored:
        if id(old) in used_old or id(candidate) in used_new:
            continue
        used_old.add(id(old))
        used_new.add(id(candidate))
        pairs.append((old, candidate))
    return sorted(pairs, key=lambda pair: pair[1].position)


def _likeness(old: str, new: str) -> float:
    """difflib's ratio, except that an item extended or shortened in place counts as reworded."""
    contained = old in new or new in old
    return max(SequenceMatcher(None, old, new).ratio(), 0.8 if contained else 0.0)


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order for version labels: 1.2 < 1.10, numbers before words."""
    parts = re.split(r"[._-]", version)
    return tuple((0, int(part)) if part.isascii() and part.isdigit() else (1, part) for part in parts)
