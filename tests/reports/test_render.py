"""The written forms: HTML within its allow-list, hostile text as text everywhere, Slack's limits kept."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser

import nh3
from sqlalchemy import Engine

from bot.i18n import translator
from bot.reports.render import HTML_TAGS, render_html, render_json, render_markdown
from commands.reports.views import ITEMS_SHOWN, render_code, render_report
from tests.reports.conftest import Recorder, at, report_of

HOSTILE = "<script>alert(1)</script> & <b>bold</b> <@U0BOSS> <!channel> `tick` *star* [x](http://evil)"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def _busy_day(recorder: Recorder) -> None:
    recorder.note("goal", "Rehearse v1.2 before it reaches production")
    recorder.rehearsal(at(10), evidence=[{"kind": "alerts", "ok": True}])
    recorder.alert_test(at(11), ["pass"] * 8)
    recorder.briefing(at(16), attendees=("U1", "U2"), answers={"U1": "attending"}, done=True)
    recorder.note("problem", "APM index saturated in QA", "retention cut to 7 days until 16 Dec")
    recorder.note("ref", "https://grafana.example/d/retry-heatmap")


def test_the_html_uses_only_the_allowed_tags_without_attributes_in_both_languages(
    engine: Engine, recorder: Recorder
) -> None:
    _busy_day(recorder)
    for lang in ("en", "ko"):
        html = render_html(report_of(engine, lang))
        assert nh3.clean(html, tags=set(HTML_TAGS), attributes={}) == html
        parser = Tags()
        parser.feed(html)
        assert {tag for tag, _ in parser.seen} <= HTML_TAGS and all(not attrs for _, attrs in parser.seen)
        assert "https://grafana.example/d/retry-heatmap" in html  # a URL as text, no <a>


def test_a_hostile_note_comes_out_as_text_in_every_form(engine: Engine, recorder: Recorder) -> None:
    recorder.note("work", HOSTILE)
    report = report_of(engine)
    html = render_html(report)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &lt;@U0BOSS&gt;" in html
    assert nh3.clean(html, tags=set(HTML_TAGS), attributes={}) == html
    markdown = render_markdown(report)
    assert (
        r"\<script\>alert(1)\</script\> & \<b\>bold\</b\> \<@U0BOSS\> \<!channel\> \`tick\` \*star\*"
        in markdown
    )
    assert r"\[x\](http://evil)" in markdown
    _, blocks = render_report(translator("en"), report)
    shown = json.dumps(blocks)
    assert (
        "&lt;@U0BOSS&gt; &lt;!channel&gt;" in shown and "<!channel>" not in shown and "<@U0BOSS>" not in shown
    )
    assert json.loads(render_json(report))["sections"][1]["items"][0]["line"][0]["text"] == HOSTILE


def test_a_very_long_day_fits_one_slack_message_and_the_files_keep_everything(
    engine: Engine, recorder: Recorder
) -> None:
    for n in range(60):
        recorder.rehearsal(at(1) + timedelta(minutes=10 * n), verdict="fail", reasons=["x" * 300] * 5)
        recorder.note("work", f"work note {n} " + "w" * 400)
        recorder.note("problem", f"problem {n} " + "p" * 900, "r" * 900)
    report = report_of(engine)
    text, blocks = render_report(translator("en"), report, buttons='{"day":"2024-12-12","lang":"en"}')
    assert len(blocks) <= 50 and len(text) <= 3000
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert "and 112 more in the Markdown file" in json.dumps(blocks)  # 60 rehearsals + 60 notes, 8 shown
    markdown = render_markdown(report)
    assert "work note 59" in markdown and "problem 59" in markdown and markdown.count("Rehearsal of") == 120
    _, code = render_code(translator("en"), "Markdown", markdown)
    assert len(code) <= 50 and "attaches the whole file" in json.dumps(code)
    assert ITEMS_SHOWN == 8
