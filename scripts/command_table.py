"""Write the README's command table from the features' declarations (commands/registry.py).

Run it after changing a subcommand, its usage or its summary: `.venv/bin/python scripts/command_table.py`.
tests/core/test_registry.py fails until README.md holds exactly what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from commands.registry import command_table  # noqa: E402  (after the path is set)

BEGIN = "<!-- commands: written by scripts/command_table.py from commands/registry.py; do not edit -->\n"
END = "<!-- /commands -->\n"


def with_table(readme: str) -> str:
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"README.md has no {BEGIN.strip()} … {END.strip()} block")
    return head + BEGIN + command_table() + END + tail


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    updated = with_table(text)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
        print("README.md: command table rewritten")
    else:
        print("README.md: command table is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
