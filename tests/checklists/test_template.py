"""The template format: front matter, sections, items with owners and approval, errors with lines, diffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checklists.diff import diff_templates, version_key
from bot.checklists.template import TemplateError, content_hash, find_templates, load_template, parse_template
from tests import lengths

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "checklists"
ISSUE_EXAMPLE = """\
---
name: automation-patch
version: "1.2"
description: IRIS automation patch rollout
---
# IRIS automation patch v1.2 — release checklist
## Rollout
- [ ] Announce the freeze window in #ops (owner: release_managers)
- [ ] Apply the patch to the QA automation hosts
## Rollback
- [ ] Rollback script rehearsed in QA (owner: <@U024BE7LH>)
## Approval
- [ ] Release approved (approval)
"""


def test_the_format_of_the_issue_parses_into_sections_items_owners_and_the_approval() -> None:
    template = parse_template(ISSUE_EXAMPLE, "example.md")
    assert (template.name, template.version, template.description) == (
        "automation-patch",
        "1.2",
        "IRIS automation patch rollout",
    )
    assert template.title == "IRIS automation patch v1.2 — release checklist"
    assert template.sections == ["Rollout", "Rollback", "Approval"]
    assert [(i.position, i.section, i.text, i.owner, i.approval, i.line) for i in template.items] == [
        (1, "Rollout", "Announce the freeze window in #ops", "release_managers", False, 8),
        (2, "Rollout", "Apply the patch to the QA automation hosts", None, False, 9),
        (3, "Rollback", "Rollback script rehearsed in QA", "U024BE7LH", False, 11),
        (4, "Approval", "Release approved", None, True, 13),
    ]
    assert template.content_hash == content_hash(ISSUE_EXAMPLE.replace("\n", "\r\n"))  # line endings aside


def test_prose_and_comments_between_items_are_allowed_and_ignored() -> None:
    text = ISSUE_EXAMPLE.replace("## Rollback\n", "## Rollback\nSee docs/releases/rollback.md.\n<!-- x -->\n")
    assert len(parse_template(text).items) == 4


def test_every_problem_is_reported_with_its_line_number() -> None:
    broken = """\
---
name: Automation Patch
version: "1.2"
colour: blue
---
- [ ] Before any section
## Rollout
- [x] Already ticked
- [ ] Owned by a stranger (owner: boss)
- Not a checkbox
### Too deep
- [ ] Release approved (approval)
- [ ] Also approved (approval)
- [ ] Owned by a stranger
- [ ]   (owner: approvers)
"""
    with pytest.raises(TemplateError) as caught:
        parse_template(broken, "broken.md")
    assert caught.value.source == "broken.md"
    assert caught.value.errors == [
        "line 2: `name` is required: lowercase letters, digits, `.`, `_` or `-`",
        "line 4: unknown front matter key `colour` (allowed: name, version, description)",
        "line 6: this item comes before any `## ` section",
        "line 8: items in a template are unchecked `- [ ]`; sign-offs happen in Slack",
        "line 9: owner `boss` is neither a role (admins, release_managers, approvers, oncall) nor a user "
        "mention such as `<@U024BE7LH>`",
        "line 10: a list line must be an item `- [ ] what to do`",
        "line 11: sections are `## ` headings; deeper headings are not used",
        "line 13: only one item can be the `(approval)` step (line 12 already is)",
        "line 14: the same item as line 9 in section Rollout",
        "line 15: the item has no text",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("# no front matter\n## S\n- [ ] a\n", "line 1: a template starts with a `---` front matter block"),
        ("---\nname: a\nversion: 1\n## S\n- [ ] a\n", "line 1: the front matter opened here is never closed"),
        ("---\nname: [a\n---\n## S\n- [ ] a\n", "line 2: the front matter is not valid YAML"),
        ("---\nname: a\nversion: '1'\n---\n# Title\n", "line 5: the template has no `- [ ]` items"),
    ],
)
def test_a_broken_frame_is_named_by_line(text: str, error: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(text)
    assert caught.value.errors[0].startswith(error)


def test_a_template_with_too_many_items_is_refused_at_the_first_extra_line() -> None:
    items = "\n".join(f"- [ ] step {n}" for n in range(1, 102))
    with pytest.raises(TemplateError) as caught:
        parse_template(f"---\nname: big\nversion: '1'\n---\n## S\n{items}\n")
    assert caught.value.errors == ["line 106: a template has at most 100 items"]


def test_the_example_templates_have_12_and_15_items() -> None:
    old = load_template(EXAMPLES / "automation-patch-v1.1.md")
    new = load_template(EXAMPLES / "automation-patch-v1.2.md")
    assert (old.label, len(old.items)) == ("automation-patch v1.1", 12)
    assert (new.label, len(new.items)) == ("automation-patch v1.2", 15)
    assert new.sections == ["Rollout", "Rollback", "Approval"]
    assert [i.text for i in new.items if i.approval] == ["Release approved"]


def test_the_diff_of_the_examples_names_what_was_added_removed_and_reworded() -> None:
    old = load_template(EXAMPLES / "automation-patch-v1.1.md")
    new = load_template(EXAMPLES / "automation-patch-v1.2.md")
    diff = diff_templates(old, new)
    assert [i.text for i in diff.added] == [
        "Elastic APM retention in QA restored to its usual period",
        "Apply the patch to the production automation hosts",
        "Slack incident-channel alerts verified end to end",
        "Rollback decision owner named for the deploy window",
    ]
    assert [i.text for i in diff.removed] == ["Ops lead sign-off"]
    assert [(a.text, b.text) for a, b in diff.reworded] == [
        ("Release notes drafted", "Release notes drafted for the automation patch v1.2"),
        ("Dashboard alert tests pass", "Dashboard alert tests pass: 8 of 8 Alertmanager rules"),
        ("Announce the deployment window in #ops", "Announce the freeze window in #ops"),
        ("Apply the patch to the automation hosts", "Apply the patch to the QA automation hosts first"),
        (
            "Rollback script available on the automation hosts",
            "Rollback script rehearsed in QA on the automation hosts",
        ),
    ]
    assert len(old.items) - len(diff.removed) + len(diff.added) == len(new.items)
    assert diff_templates(new, new).unchanged


def test_versions_sort_naturally() -> None:
    assert sorted(["1.10", "1.2", "1.1", "2"], key=version_key) == ["1.1", "1.2", "1.10", "2"]


def test_the_folder_lists_valid_and_broken_files(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(ISSUE_EXAMPLE)
    (tmp_path / "bad.md").write_text("no front matter")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe")
    found = {path.name: result for path, result in find_templates(tmp_path)}
    assert sorted(found) == ["bad.md", "binary.md", "good.md"]
    assert isinstance(found["bad.md"], TemplateError) and not isinstance(found["good.md"], TemplateError)
    assert isinstance(found["binary.md"], TemplateError) and found["binary.md"].errors == [
        "is not UTF-8 text"
    ]


def test_an_unquoted_version_that_yaml_reads_as_a_number_is_refused() -> None:
    """`version: 1.10` unquoted is the float 1.1: taken as is, it would collide with the real v1.1."""
    with pytest.raises(TemplateError) as caught:
        parse_template("---\nname: t\nversion: 1.10\n---\n## S\n- [ ] a\n")
    assert caught.value.errors == [
        'line 3: quote the version, as in `version: "1.10"`; unquoted, YAML reads it as a number '
        "(1.10 becomes 1.1)"
    ]
    assert parse_template("---\nname: t\nversion: 2\n---\n## S\n- [ ] a\n").version == "2"


def _longest_template(heading: str, owner: str) -> str:
    return (
        f'---\nname: longest\nversion: "1"\n---\n# {heading}\n## {heading}\n'
        f"- [ ] {'i' * 300} (owner: <@{owner}>)\n"
    )


@pytest.mark.parametrize(
    ("heading", "owner", "error"),
    [
        (lengths.over("checklist heading"), "U1", "line 5: a heading has at most 255 characters"),
        (lengths.longest("checklist heading"), lengths.over("template owner id"), "line 7: owner `<@UUUU"),
    ],
)
def test_headings_and_owners_longer_than_stored_are_refused_by_line(
    heading: str, owner: str, error: str
) -> None:
    with pytest.raises(TemplateError) as refused:
        parse_template(_longest_template(heading, owner))
    assert any(problem.startswith(error) for problem in refused.value.errors), refused.value.errors


def test_a_nul_character_anywhere_is_refused_by_line() -> None:
    with pytest.raises(TemplateError) as refused:
        parse_template('---\nname: x\nversion: "1"\ndescription: a\x00b\n---\n# T\n## S\n- [ ] item\n')
    assert "line 4: contains a NUL character" in refused.value.errors
