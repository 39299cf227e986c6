"""Block Kit and mrkdwn as playground HTML: what Slack would show, and nothing a message could inject."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from jinja2 import Environment
from markupsafe import Markup

from bot.demo.blockkit import (
    Viewer,
    mrkdwn_to_html,
    plain_to_html,
    render_blocks,
    render_message,
    render_view_body,
)

UTC_VIEWER = Viewer(ZoneInfo("UTC"), users={"U1": "ann"}, channels={"C1": "ops"})
SEOUL = Viewer(ZoneInfo("Asia/Seoul"))
# 2026-12-07 00:05:07 UTC, a Monday: 09:05:07 the same day in Seoul.
MOMENT = int(datetime(2026, 12, 7, 0, 5, 7, tzinfo=UTC).timestamp())
ALLOWED_TAGS = {
    "div", "span", "a", "b", "i", "s", "code", "pre", "blockquote", "br", "time", "h3", "hr", "img",
    "button", "label", "input", "textarea", "select", "option", "ul", "ol", "li",
}  # fmt: skip
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "&lt;script&gt;",
    "it's \"quoted\" & 'single'",
    "</textarea><script>alert(1)</script>",
    "<!date^notanumber^{date}|<b>x</b>>",
    "<javascript:alert(1)|click me>",
]
LINK = 'target="_blank" rel="noopener noreferrer"'


class Page(HTMLParser):
    """The tags, attributes and visible text of a rendered fragment, as a browser would read them."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.oddities: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.oddities.append(f"comment {data}")

    def handle_decl(self, decl: str) -> None:
        self.oddities.append(f"declaration {decl}")

    def handle_pi(self, data: str) -> None:
        self.oddities.append(f"processing instruction {data}")

    def unknown_decl(self, data: str) -> None:
        self.oddities.append(f"declaration {data}")

    def visible(self) -> str:
        return "".join(self.text)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def assert_safe(markup: str) -> Page:
    lowered = markup.lower()
    assert "<script" not in lowered
    assert 'href="javascript:' not in lowered
    page = Page(markup)
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    assert page.oddities == []
    for tag, attrs in page.tags:
        assert [name for name in attrs if name.startswith("on")] == [], (tag, attrs)
        for name in ("href", "src"):
            if name in attrs:
                assert re.match(r"(https?://|mailto:)", attrs[name] or ""), (tag, attrs)
    return page


def every_block(s: str) -> list[dict[str, Any]]:
    """One block of each kind with `s` in every field that carries text, ids, values or URLs."""
    plain, mrkdwn = {"type": "plain_text", "text": s}, {"type": "mrkdwn", "text": s}
    option = {"text": plain, "value": s}
    confirm = {"title": plain, "text": mrkdwn, "confirm": plain, "deny": plain}
    button = {"type": "button", "text": plain, "action_id": s, "value": s, "style": s, "confirm": confirm}
    image = {"type": "image", "image_url": s, "alt_text": s}
    bad_urls = [
        {**button, "url": "javascript:alert(1)"},
        {**button, "url": s},
        {**button, "url": f"https://e.x/{s}"},
    ]
    run = {
        "type": "rich_text_section",
        "elements": [
            {"type": "text", "text": s, "style": {"bold": True, "code": True}},
            {"type": "link", "url": s, "text": s},
            {"type": "link", "url": "javascript:alert(1)", "text": s},
            {"type": "user", "user_id": s},
            {"type": "channel", "channel_id": s},
            {"type": "emoji", "name": s},
            {"type": "date", "timestamp": s, "format": s, "fallback": s},
        ],
    }
    return [
        {"type": "header", "block_id": s, "text": plain},
        {"type": "section", "block_id": s, "text": mrkdwn, "fields": [mrkdwn, plain], "accessory": button},
        {"type": "section", "text": plain, "accessory": image},
        {"type": "section", "text": mrkdwn, "accessory": {**image, "image_url": "javascript:alert(1)"}},
        {"type": "divider", "block_id": s},
        {"type": "context", "block_id": s, "elements": [mrkdwn, plain, image]},
        {"type": "image", "block_id": s, **image, "title": plain},
        {
            "type": "actions",
            "block_id": s,
            "elements": [
                button,
                *bad_urls,
                image,
                {"type": "static_select", "action_id": s, "placeholder": plain, "options": [option]},
                {"type": "overflow", "action_id": s, "options": [option]},
                {"type": "datepicker", "action_id": s, "initial_date": s},
                {"type": s, "action_id": s},
            ],
        },
        *[input_block(s, element) for element in input_elements(s)],
        {
            "type": "rich_text",
            "block_id": s,
            "elements": [
                run,
                {"type": "rich_text_list", "style": "ordered", "elements": [run]},
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": s}]},
            ],
        },
        {"type": s, "block_id": s},
    ]


def input_elements(s: str) -> list[dict[str, Any]]:
    plain = {"type": "plain_text", "text": s}
    options = [{"text": {"type": "mrkdwn", "text": s}, "value": s}]
    selectable = [{"text": plain, "value": s}]
    return [
        {"type": "plain_text_input", "action_id": s, "initial_value": s, "placeholder": plain},
        {
            "type": "plain_text_input",
            "action_id": s,
            "initial_value": s,
            "placeholder": plain,
            "multiline": True,
        },
        {
            "type": "static_select",
            "action_id": s,
            "placeholder": plain,
            "initial_option": selectable[0],
            "option_groups": [{"label": plain, "options": selectable}],
        },
        {"type": "datepicker", "action_id": s, "initial_date": s, "placeholder": plain},
        {"type": "checkboxes", "action_id": s, "options": options, "initial_options": options},
        {"type": "radio_buttons", "action_id": s, "options": options, "initial_option": options[0]},
        {"type": s, "action_id": s},
    ]


def input_block(block_id: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    label = {"type": "plain_text", "text": block_id}
    return {"type": "input", "block_id": block_id, "label": label, "hint": label, "element": element, **extra}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go", **fields}


# --- escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_no_field_of_any_block_can_inject_markup(hostile: str) -> None:
    viewer = Viewer(ZoneInfo("UTC"), users={hostile: hostile}, channels={hostile: hostile})
    blocks = every_block(hostile)
    message = assert_safe(render_blocks(blocks, viewer))
    modal = assert_safe(render_view_body({"blocks": blocks}, viewer, {hostile: hostile}))
    # Every block still renders, each in its wrapper, and nothing was silently dropped.
    assert len([a for a in message.all("div") if "bk-block" in (a.get("class") or "")]) == len(blocks)
    assert hostile in modal.visible()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_mrkdwn_shows_hostile_text_as_text(hostile: str) -> None:
    page = assert_safe(mrkdwn_to_html(hostile, UTC_VIEWER))
    slack_meant = hostile.replace("&lt;", "<").replace("&gt;", ">")
    assert page.visible() == slack_meant
    assert page.tags == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_plain_text_and_attribute_values_survive_exactly(hostile: str) -> None:
    blocks = every_block(hostile)
    page = assert_safe(render_blocks(blocks[:2], UTC_VIEWER))
    assert page.text[0] == hostile  # the header, whole
    (button_attrs,) = page.all("button")
    assert button_attrs["data-action-id"] == hostile
    assert button_attrs["data-block-id"] == hostile
    assert button_attrs["data-value"] == hostile
    assert json.loads(button_attrs["data-confirm"] or "")["title"]["text"] == hostile
    assert button_attrs["class"] == "bk-button bk-default"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_form_fields_keep_hostile_values_inside_their_attributes(hostile: str) -> None:
    blocks = [input_block("B", element) for element in input_elements(hostile)[:3]]
    page = assert_safe(render_view_body({"blocks": blocks}, UTC_VIEWER, {"B": hostile}))
    text_input, *_ = page.all("input")
    assert (text_input["value"], text_input["placeholder"], text_input["data-action-id"]) == (hostile,) * 3
    assert page.all("textarea")[0]["placeholder"] == hostile
    assert [option["value"] for option in page.all("option")] == ["", hostile]
    assert page.visible().count(hostile) >= 4  # textarea content, option label, the errors under each


def test_closing_textarea_in_initial_value_stays_inside_the_textarea() -> None:
    element = {"type": "plain_text_input", "action_id": "A", "multiline": True}
    value = "</textarea><script>alert(1)</script>"
    html = render_view_body({"blocks": [input_block("B", {**element, "initial_value": value})]}, UTC_VIEWER)
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html
    assert html.count("</textarea>") == 1


def test_user_and_channel_names_from_the_viewer_are_escaped() -> None:
    viewer = Viewer(
        ZoneInfo("UTC"), users={"U1": "<img src=x onerror=alert(1)>"}, channels={"C1": "<b>ops</b>"}
    )
    page = assert_safe(mrkdwn_to_html("hi <@U1> in <#C1>", viewer))
    assert page.visible() == "hi @<img src=x onerror=alert(1)> in #<b>ops</b>"
    assert [tag for tag, _ in page.tags] == ["span", "span"]


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
    ],
)
def test_links_to_other_schemes_render_as_text(target: str) -> None:
    html = mrkdwn_to_html(f"<{target}|click>", UTC_VIEWER)
    page = assert_safe(html)
    assert page.all("a") == []
    assert "click" in page.visible()


def test_button_with_javascript_url_is_an_action_button_without_a_link() -> None:
    html = render_blocks(
        [{"type": "actions", "block_id": "B", "elements": [button(url="javascript:x")]}], UTC_VIEWER
    )
    assert "href" not in html
    assert (
        '<button type="button" class="bk-button bk-default" data-action-id="go" data-block-id="B">Go</button>'
        in html
    )


def test_output_is_markup_that_jinja_does_not_escape_again() -> None:
    template = Environment(autoescape=True).from_string("<li>{{ body }}</li>")
    body = render_message("*hi* <script>", None, UTC_VIEWER)
    assert isinstance(body, Markup)
    assert template.render(body=body) == "<li><b>hi</b> &lt;script&gt;</li>"
    for rendered in (plain_to_html("x"), render_blocks([], UTC_VIEWER), render_view_body({}, UTC_VIEWER)):
        assert isinstance(rendered, Markup)


# --- mrkdwn -------------------------------------------------------------------------------------


def test_links_with_and_without_labels() -> None:
    html = mrkdwn_to_html(
        "<https://e.com/a?b=1&amp;c=2|the &lt;docs&gt;> <http://e.com> <mailto:ann@e.com|mail ann>",
        UTC_VIEWER,
    )
    assert html == (
        f'<a href="https://e.com/a?b=1&amp;c=2" {LINK}>the &lt;docs&gt;</a> '
        f'<a href="http://e.com" {LINK}>http://e.com</a> '
        f'<a href="mailto:ann@e.com" {LINK}>mail ann</a>'
    )


def test_a_quote_in_a_link_target_cannot_leave_the_href() -> None:
    page = assert_safe(mrkdwn_to_html('<https://e.com/" onmouseover="alert(1)|x>', UTC_VIEWER))
    assert page.all("a") == [
        {"href": 'https://e.com/" onmouseover="alert(1)', "target": "_blank", "rel": "noopener noreferrer"}
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<@U1>", "@ann"),
        ("<@U1|someone>", "@ann"),
        ("<@U9>", "@U9"),
        ("<@U9|bob>", "@bob"),
        ("<#C1>", "#ops"),
        ("<#C9|general>", "#general"),
        ("<!here>", "@here"),
        ("<!channel>", "@channel"),
        ("<!everyone>", "@everyone"),
        ("<!subteam^S1|@oncall>", "@oncall"),
        ("<!subteam^S1>", "@S1"),
    ],
)
def test_mentions_show_the_names_slack_would(text: str, shown: str) -> None:
    assert mrkdwn_to_html(text, UTC_VIEWER) == f'<span class="bk-mention">{shown}</span>'


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*bold* _italic_ ~gone~", "<b>bold</b> <i>italic</i> <s>gone</s>"),
        ("*bold _and italic_*", "<b>bold <i>and italic</i></b>"),
        ("snake_case_name and file_name_here", "snake_case_name and file_name_here"),
        ("x * y * z", "x * y * z"),
        ("`*not* bold` *bold*", "<code>*not* bold</code> <b>bold</b>"),
        ("```\n*raw* <b>\n_x_\n```", "<pre>*raw* &lt;b&gt;\n_x_</pre>"),
        ("one\ntwo", "one<br>two"),
        (
            "&gt; quoted *line*\n&gt; second\nafter",
            "<blockquote>quoted <b>line</b><br>second</blockquote>after",
        ),
        ("before\n&gt;&gt;&gt; all\nof this", "before<blockquote>all<br>of this</blockquote>"),
        ("*a _b* c_", "<b>a _b</b> c_"),
        ("a &amp;lt; b &amp; c", "a &amp;lt; b &amp; c"),
        ("*<https://e.com|bold link>*", f'<b><a href="https://e.com" {LINK}>bold link</a></b>'),
    ],
)
def test_formatting(text: str, html: str) -> None:
    assert mrkdwn_to_html(text, UTC_VIEWER) == html


def test_plain_text_is_escaped_with_line_breaks() -> None:
    assert plain_to_html("a <b> & *c*\nd") == "a &lt;b&gt; &amp; *c*<br>d"


# --- dates --------------------------------------------------------------------------------------


def date(fmt: str, viewer: Viewer = SEOUL, epoch: int = MOMENT) -> str:
    return str(mrkdwn_to_html(f"<!date^{epoch}^{fmt}|fallback>", viewer))


@pytest.mark.parametrize(
    ("fmt", "shown"),
    [
        ("{date_num}", "2026-12-07"),
        ("{date}", "December 7th, 2026"),
        ("{date_short}", "Dec 7, 2026"),
        ("{date_long}", "Monday, December 7th, 2026"),
        ("{time}", "9:05 AM"),
        ("{time_secs}", "9:05:07 AM"),
        ("Posted {date_short} at {time} {unknown}", "Posted Dec 7, 2026 at 9:05 AM {unknown}"),
    ],
)
def test_date_tokens_in_the_viewers_zone(fmt: str, shown: str) -> None:
    assert date(fmt) == f'<time datetime="2026-12-07T00:05:07Z">{shown}</time>'


def test_seoul_and_utc_see_different_days() -> None:
    evening = int(datetime(2026, 12, 6, 20, 0, tzinfo=UTC).timestamp())
    assert date("{date_num} {time}", UTC_VIEWER, evening).endswith(">2026-12-06 8:00 PM</time>")
    assert date("{date_num} {time}", SEOUL, evening).endswith(">2026-12-07 5:00 AM</time>")


@pytest.mark.parametrize(
    ("day", "shown"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (31, "31st"),
    ],
)
def test_ordinal_days(day: int, shown: str) -> None:
    epoch = int(datetime(2026, 1, day, 12, tzinfo=UTC).timestamp())
    assert f">January {shown}, 2026<" in date("{date}", UTC_VIEWER, epoch)


def test_noon_and_midnight_on_a_twelve_hour_clock() -> None:
    noon, midnight = (int(datetime(2026, 1, 1, h, 30, tzinfo=UTC).timestamp()) for h in (12, 0))
    assert ">12:30 PM<" in date("{time}", UTC_VIEWER, noon)
    assert ">12:30 AM<" in date("{time}", UTC_VIEWER, midnight)


@pytest.mark.parametrize(
    ("later", "shown"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=3, seconds=10), "3 minutes ago"),
        (timedelta(hours=1, minutes=59), "1 hour ago"),
        (timedelta(days=2), "2 days ago"),
        (timedelta(days=-2), "in 2 days"),
        (timedelta(days=400), "1 year ago"),
    ],
)
def test_ago_counts_from_now(later: timedelta, shown: str) -> None:
    with freeze_time(datetime.fromtimestamp(MOMENT, UTC) + later):
        assert date("{ago}").endswith(f">{shown}</time>")


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        (datetime(2026, 12, 7, 14, 0, tzinfo=UTC), "today"),  # 23:00 in Seoul, still the 7th
        (datetime(2026, 12, 7, 15, 30, tzinfo=UTC), "yesterday"),  # past midnight in Seoul
        (datetime(2026, 12, 5, 23, 0, tzinfo=UTC), "tomorrow"),
        (datetime(2026, 12, 1, tzinfo=UTC), "Dec 7, 2026"),
    ],
)
def test_pretty_dates_name_nearby_days_in_the_viewers_zone(now: datetime, shown: str) -> None:
    with freeze_time(now):
        assert date("{date_short_pretty}").endswith(f">{shown}</time>")


def test_unreadable_date_shows_the_fallback_escaped() -> None:
    html = mrkdwn_to_html("<!date^notanumber^{date}|&lt;b&gt;x&lt;/b&gt;>", UTC_VIEWER)
    assert html == "&lt;b&gt;x&lt;/b&gt;"
    assert mrkdwn_to_html("<!date^99999999999999999^{date}|later>", UTC_VIEWER) == "later"


def test_date_link_only_for_web_urls() -> None:
    linked = mrkdwn_to_html(f"<!date^{MOMENT}^{{date_num}}^https://e.com/x|f>", UTC_VIEWER)
    assert (
        linked
        == f'<a href="https://e.com/x" {LINK}><time datetime="2026-12-07T00:05:07Z">2026-12-07</time></a>'
    )
    unlinked = mrkdwn_to_html(f"<!date^{MOMENT}^{{date_num}}^javascript:alert(1)|f>", UTC_VIEWER)
    assert unlinked == '<time datetime="2026-12-07T00:05:07Z">2026-12-07</time>'


# --- blocks -------------------------------------------------------------------------------------


def test_header_divider_and_wrappers() -> None:
    html = render_blocks(
        [
            {"type": "header", "block_id": "H", "text": {"type": "plain_text", "text": "Deploy <now>"}},
            {"type": "divider"},
        ],
        UTC_VIEWER,
    )
    assert html == (
        '<div class="bk-block bk-header" data-block-id="H">'
        '<h3 class="bk-header">Deploy &lt;now&gt;</h3></div>'
        '<div class="bk-block bk-divider" data-block-id=""><hr></div>'
    )


def test_section_with_fields_and_a_button() -> None:
    block = {
        "type": "section",
        "block_id": "S",
        "text": {"type": "mrkdwn", "text": "*Alert* firing"},
        "fields": [{"type": "mrkdwn", "text": "*Host*\nweb-1"}, {"type": "plain_text", "text": "*sev* 2"}],
        "accessory": button(value="42", style="danger"),
    }
    page = assert_safe(render_blocks([block], UTC_VIEWER))
    assert "<b>Alert</b> firing" in str(render_blocks([block], UTC_VIEWER))
    assert '<div class="bk-fields"><div><b>Host</b><br>web-1</div><div>*sev* 2</div></div>' in str(
        render_blocks([block], UTC_VIEWER)
    )
    assert page.all("button") == [
        {
            "type": "button",
            "class": "bk-button bk-danger",
            "data-action-id": "go",
            "data-block-id": "S",
            "data-value": "42",
        }
    ]


def test_button_renders_exactly_as_the_page_expects() -> None:
    confirm = {
        "title": {"type": "plain_text", "text": "Sure?"},
        "confirm": {"type": "plain_text", "text": "Yes"},
    }
    html = render_blocks(
        [
            {
                "type": "actions",
                "block_id": "B1",
                "elements": [button(value="7", style="primary", confirm=confirm)],
            }
        ],
        UTC_VIEWER,
    )
    expected_confirm = json.dumps(confirm).replace('"', "&quot;")
    assert html == (
        '<div class="bk-block bk-actions" data-block-id="B1">'
        '<button type="button" class="bk-button bk-primary" data-action-id="go" data-block-id="B1" '
        f'data-value="7" data-confirm="{expected_confirm}">Go</button></div>'
    )
    assert json.loads(Page(str(html)).all("button")[0]["data-confirm"] or "") == confirm


def test_button_with_a_web_url_is_a_link() -> None:
    html = render_blocks(
        [{"type": "actions", "elements": [button(url="https://e.com/?a=1&b=2")]}], UTC_VIEWER
    )
    assert '<a class="bk-button bk-link" href="https://e.com/?a=1&amp;b=2" target="_blank" ' in html
    assert "<button" not in html


def test_context_and_image_blocks() -> None:
    picture = {"type": "image", "image_url": "https://e.com/a.png", "alt_text": "a graph"}
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [picture, {"type": "mrkdwn", "text": "by <@U1>"}]},
        {**picture, "title": {"type": "plain_text", "text": "Latency"}},
        {**picture, "image_url": "javascript:alert(1)"},
    ]
    page = assert_safe(render_blocks(blocks, UTC_VIEWER))
    sources = [(img["class"], img["src"], img["alt"], img["loading"]) for img in page.all("img")]
    assert sources == [
        ("bk-context-image", "https://e.com/a.png", "a graph", "lazy"),
        ("bk-image", "https://e.com/a.png", "a graph", "lazy"),
    ]
    assert "by @ann" in page.visible()
    assert "Latency" in page.visible()
    assert "[image: a graph]" in page.visible()


def test_actions_show_selects_overflow_and_datepicker_disabled() -> None:
    option = {"text": {"type": "plain_text", "text": "One"}, "value": "1"}
    elements = [
        {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Pick"}, "options": [option]},
        {"type": "overflow", "options": [option]},
        {"type": "datepicker", "initial_date": "2026-12-07"},
    ]
    page = assert_safe(render_blocks([{"type": "actions", "elements": elements}], UTC_VIEWER))
    assert [attrs.get("disabled", "missing") for attrs in page.all("select") + page.all("input")] == [
        None
    ] * 3
    assert [o["value"] for o in page.all("option")] == ["", "1", "", "1"]
    assert page.all("input")[0]["value"] == "2026-12-07"


def test_rich_text_runs_render_with_their_styles() -> None:
    section = {
        "type": "rich_text_section",
        "elements": [
            {"type": "text", "text": "Hi ", "style": {"bold": True}},
            {"type": "user", "user_id": "U1"},
            {"type": "link", "url": "https://e.com", "text": "docs"},
            {"type": "emoji", "name": "tada"},
        ],
    }
    listing = {"type": "rich_text_list", "style": "ordered", "elements": [section]}
    html = render_blocks([{"type": "rich_text", "elements": [section, listing]}], UTC_VIEWER)
    inner = f'<b>Hi </b><span class="bk-mention">@ann</span><a href="https://e.com" {LINK}>docs</a>:tada:'
    wrapper = '<div class="bk-block bk-rich_text" data-block-id="">'
    assert html == f"{wrapper}<div>{inner}</div><ol><li>{inner}</li></ol></div>"


def test_unknown_block_types_leave_a_small_escaped_note() -> None:
    html = render_blocks([{"type": "<video>", "block_id": "V"}], UTC_VIEWER)
    note = '<span class="bk-note">[&lt;video&gt; block]</span>'
    assert html == f'<div class="bk-block bk-unknown" data-block-id="V">{note}</div>'


def test_message_shows_blocks_when_present_else_its_text() -> None:
    blocks = [{"type": "divider"}]
    assert render_message("*fallback*", blocks, UTC_VIEWER) == render_blocks(blocks, UTC_VIEWER)
    assert render_message("*fallback*", None, UTC_VIEWER) == "<b>fallback</b>"
    assert render_message("*fallback*", [], UTC_VIEWER) == "<b>fallback</b>"


# --- modal bodies -------------------------------------------------------------------------------


def test_text_input_with_label_hint_and_error() -> None:
    element = {
        "type": "plain_text_input",
        "action_id": "A",
        "initial_value": "v",
        "placeholder": {"type": "plain_text", "text": "Say"},
    }
    view = {
        "title": {"type": "plain_text", "text": "TITLE"},
        "submit": {"type": "plain_text", "text": "SUBMIT"},
        "blocks": [input_block("B", element)],
    }
    html = render_view_body(view, UTC_VIEWER, {"B": "Too <short>", "other": "not shown"})
    assert html == (
        '<div class="bk-block bk-input" data-block-id="B"><label>B</label>'
        '<input type="text" class="bk-field" data-block-id="B" data-action-id="A"'
        ' data-type="plain_text_input" value="v" placeholder="Say" required>'
        '<div class="bk-hint">B</div><div class="bk-error">Too &lt;short&gt;</div></div>'
    )


def test_multiline_optional_input_is_a_textarea_that_is_not_required() -> None:
    element = {"type": "plain_text_input", "action_id": "A", "multiline": True, "initial_value": "a\nb"}
    html = render_view_body({"blocks": [input_block("B", element, optional=True)]}, UTC_VIEWER)
    assert (
        '<textarea class="bk-field" data-block-id="B" data-action-id="A" data-type="plain_text_input">'
        "a\nb</textarea>" in html
    )
    assert "bk-error" not in html


def test_static_select_flattens_groups_and_selects_the_initial_option() -> None:
    one, two = ({"text": {"type": "plain_text", "text": t}, "value": t.lower()} for t in ("One", "Two"))
    element = {
        "type": "static_select",
        "action_id": "A",
        "initial_option": two,
        "option_groups": [{"label": {"type": "plain_text", "text": "g"}, "options": [one, two]}],
    }
    page = assert_safe(render_view_body({"blocks": [input_block("B", element)]}, UTC_VIEWER))
    (select,) = page.all("select")
    assert select == {
        "class": "bk-field",
        "data-block-id": "B",
        "data-action-id": "A",
        "data-type": "static_select",
        "required": None,
    }
    assert page.all("option") == [{"value": ""}, {"value": "one"}, {"value": "two", "selected": None}]


def test_datepicker_checkboxes_and_radio_buttons() -> None:
    options = [{"text": {"type": "mrkdwn", "text": f"*{v}*"}, "value": v} for v in ("a", "b")]
    blocks = [
        input_block("D", {"type": "datepicker", "action_id": "d", "initial_date": "2026-12-07"}),
        input_block(
            "C", {"type": "checkboxes", "action_id": "c", "options": options, "initial_options": options[1:]}
        ),
        input_block("R", {"type": "radio_buttons", "action_id": "r", "options": options}, optional=True),
    ]
    page = assert_safe(render_view_body({"blocks": blocks}, UTC_VIEWER))
    fields = [(f["type"], f["data-type"], f["value"], "checked" in f) for f in page.all("input")]
    assert fields == [
        ("date", "datepicker", "2026-12-07", False),
        ("checkbox", "checkboxes", "a", False),
        ("checkbox", "checkboxes", "b", True),
        ("radio", "radio_buttons", "a", False),
        ("radio", "radio_buttons", "b", False),
    ]
    assert all(f["class"] == "bk-field" for f in page.all("input"))
    assert {f["name"] for f in page.all("input") if f["type"] == "radio"} == {"R/r"}
    assert "required" not in page.all("input")[-1]
    assert str(render_view_body({"blocks": blocks[1:2]}, UTC_VIEWER)).count("<b>a</b>") == 1


def test_view_body_renders_other_blocks_like_messages_but_not_the_title() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*"}},
        {"type": "divider"},
    ]
    view = {"title": {"type": "plain_text", "text": "TITLE"}, "blocks": blocks}
    assert render_view_body(view, UTC_VIEWER) == render_blocks(blocks, UTC_VIEWER)
    assert "TITLE" not in render_view_body(view, UTC_VIEWER)


def test_emoji_shortcodes_become_emoji_outside_code_and_unknown_ones_stay() -> None:
    html = str(
        mrkdwn_to_html(":white_check_mark: *RetryBurst* resolved :no_such_emoji: `:x:` 15:28:07", UTC_VIEWER)
    )
    assert html.startswith("✅ <b>RetryBurst</b> resolved :no_such_emoji: <code>:x:</code> 15:28:07")
