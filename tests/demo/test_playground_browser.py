"""The playground in a real browser (Debian's Chromium driven by Playwright): what a newcomer does first.

Screenshots land in $IRIS_SCREENSHOTS when it is set (`bash scripts/screenshots.sh` writes docs/screenshots/).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo.conftest import Demo, ready, started_demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

if os.environ.get("CI") == "true":  # in CI a missing browser driver is a failure, never a skip
    from playwright import sync_api as playwright_api
else:
    playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
RELEASE_MANAGER, NO_ROLE = "U0RELEASE", "U0NOROLE1"


def chromium_path() -> str:
    path = os.environ.get("IRIS_TEST_CHROMIUM", "")
    if not path or not Path(path).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "no Chromium (IRIS_TEST_CHROMIUM): scripts/ensure_chromium.sh installs Debian's package"
            )
        pytest.skip("no Chromium: run scripts/test.sh, which installs Debian's chromium package")
    return path


@pytest.fixture
def page(demo_factory: list[Demo], tmp_path: Path) -> Iterator[object]:
    executable = chromium_path()
    demo = started_demo(demo_factory, tmp_path)
    ready(demo)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, timezone_id="Asia/Seoul")
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        tab.goto(demo.url + "/")
        expect(tab.locator("#live")).to_have_text("live")
        yield tab
        browser.close()
    assert demo.stop() == 0


def shoot(tab: object, name: str) -> None:
    folder = os.environ.get("IRIS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(folder) / f"{name}.png"))  # type: ignore[attr-defined]


def send(tab: object, text: str) -> None:
    tab.fill("#composer-text", text)  # type: ignore[attr-defined]
    tab.press("#composer-text", "Enter")  # type: ignore[attr-defined]


def act_as(tab: object, user: str, channel: str) -> None:
    tab.select_option("#user", user)  # type: ignore[attr-defined]
    tab.click(f'[data-channel="{channel}"]')  # type: ignore[attr-defined]


def test_help_checklist_sign_off_na_and_a_refusal(page: object) -> None:
    tab = page
    send(tab, "/iris help")
    answer = tab.locator(".msg-ephemeral").first  # type: ignore[attr-defined]
    expect(answer).to_contain_text("IRIS commands")
    expect(answer.locator(".only-you")).to_have_text("Only visible to you")
    shoot(tab, "playground-help")

    act_as(tab, RELEASE_MANAGER, "C0DEMOREL")
    send(tab, "/iris checklist start automation-patch")
    checklist = tab.locator(".msg-message").filter(has_text="release checklist")  # type: ignore[attr-defined]
    expect(checklist.locator('[data-block-id^="item-"]')).to_have_count(15)
    expect(checklist).to_contain_text("0/15")

    checklist.locator('button[data-action-id="checklist_sign"]').first.click()
    expect(checklist).to_contain_text("1/15 signed")
    expect(checklist.locator(".edited")).to_be_visible()

    checklist.locator('button[data-action-id="checklist_na"]').first.click()
    modal = tab.locator("#modal")  # type: ignore[attr-defined]
    expect(modal).to_be_visible()
    modal.locator("textarea.bk-field, input.bk-field").first.fill("No APM change in this release")
    shoot(tab, "playground-na-modal")
    modal.locator("#modal-submit").click()
    expect(modal).to_be_hidden()
    expect(checklist).to_contain_text("No APM change in this release")
    expect(checklist).to_contain_text("2/15 done: 1 signed, 1 N/A")
    shoot(tab, "playground-checklist")

    act_as(tab, NO_ROLE, "C0DEMOREL")
    expect(tab.locator(".msg-ephemeral")).to_have_count(0)  # type: ignore[attr-defined]  (hyejin's are hers)
    send(tab, "/iris checklist start automation-patch")
    refusal = tab.locator(".msg-ephemeral")  # type: ignore[attr-defined]
    expect(refusal).to_have_count(1)
    expect(refusal).to_contain_text("release_managers")
    expect(tab.locator(".msg-message").filter(has_text="release checklist")).to_have_count(1)  # type: ignore[attr-defined]
    shoot(tab, "playground-refusal")


def test_an_alert_group_fires_and_resolves_in_its_thread(page: object) -> None:
    tab = page
    tab.click('[data-channel="C0DEMOINC"]')  # type: ignore[attr-defined]
    tab.click("#fire-alert")  # type: ignore[attr-defined]
    group = tab.locator(".entry").filter(has_text="RetryBurst")  # type: ignore[attr-defined]
    expect(group).to_have_count(1)
    expect(group).to_contain_text("FIRING")
    tab.click("#resolve-alert")  # type: ignore[attr-defined]
    thread = group.locator("details.thread")
    expect(thread.locator("summary")).to_contain_text("repl")
    thread.locator("summary").click()
    expect(thread.locator(".replies")).to_contain_text("resolved")
    expect(group).to_have_count(1)
    shoot(tab, "playground-alert")


def test_the_example_rehearsal_moves_its_progress_bar_and_shows_its_timeline(page: object) -> None:
    tab = page
    act_as(tab, RELEASE_MANAGER, "C0DEMOREL")
    send(tab, "/iris rehearse automation-v1.2")
    channel_posts = tab.locator(".entry:has(> .msg-message)")  # type: ignore[attr-defined]
    rehearsal = channel_posts.filter(has_text="automation-v1.2")
    expect(rehearsal).to_contain_text("▰", timeout=30_000)
    first = rehearsal.locator(".msg-message").first.inner_text()
    expect(rehearsal.locator(".msg-message").first).not_to_have_text(first, timeout=60_000)  # it moved
    expect(rehearsal).to_contain_text("verdict pass", timeout=90_000)
    thread = rehearsal.locator("details.thread")
    thread.locator("summary").click()
    image = thread.locator("img.file-image")
    expect(image).to_be_visible(timeout=30_000)
    assert image.evaluate("img => img.naturalWidth") > 0
    image.scroll_into_view_if_needed()
    shoot(tab, "playground-rehearsal")
