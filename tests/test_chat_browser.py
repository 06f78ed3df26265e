"""The chat example end to end in headless Chromium: two covet processes on one Redis, three
pages (red on process A, blue on B, red on B). A line said in red shows on both red pages,
across processes, and never on the blue one; a line said in blue shows only there.

Uses Debian's chromium (`make test` installs it when missing) driven by Playwright; never a
downloaded browser. Skips, saying why, only when there is no chromium to drive.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from tests.conftest import Server, chat_servers

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"{CHROMIUM} is missing: `apt-get install -y chromium` (scripts/services.sh does)", allow_module_level=True
    )


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Server]]:
    with chat_servers(monkeypatch, "chat-browser") as pair:
        yield pair


def test_three_pages_two_rooms(servers: tuple[Server, Server]) -> None:
    a, b = servers
    with tempfile.TemporaryDirectory(prefix="covet-chromium-") as profile, sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            ada = open_page(context, f"{a.url}/?room=red&name=ada")
            cy = open_page(context, f"{b.url}/?room=blue&name=cy")
            bob = open_page(context, f"{b.url}/?room=red&name=bob")
            expect = sync_api.expect
            expect(ada.locator("#log")).to_contain_text("bob joined")

            say(ada, "hello red")
            for page in (ada, bob):
                expect(page.locator("#log li", has_text="ada: hello red")).to_have_count(1)
            say(cy, "hello blue")
            expect(cy.locator("#log li", has_text="cy: hello blue")).to_have_count(1)
            say(bob, "red again")
            for page in (ada, bob):
                expect(page.locator("#log li", has_text="bob: red again")).to_have_count(1)
            say(cy, "blue again")
            expect(cy.locator("#log li", has_text="cy: blue again")).to_have_count(1)
            # Bob and Cy are on the same process: a blue line wrongly sent to Ada would reach
            # her before this red one, published after it from the same process.
            say(bob, "bye")
            for page in (ada, bob):
                expect(page.locator("#log li", has_text="bob: bye")).to_have_count(1)

            red = ["ada: hello red", "bob: red again", "bob: bye"]
            assert lines(ada) == ["ada joined", "bob joined", *red]
            assert lines(bob) == ["bob joined", *red]
            assert lines(cy) == ["cy joined", "cy: hello blue", "cy: blue again"]
            expect(ada.locator("#online")).to_have_text("(2 online)")
        finally:
            context.close()


def open_page(context: sync_api.BrowserContext, url: str) -> sync_api.Page:
    page = context.new_page()
    page.goto(url)
    sync_api.expect(page.locator("body")).to_have_attribute("data-ready", "1")
    return page


def say(page: sync_api.Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def lines(page: sync_api.Page) -> list[str]:
    return page.locator("#log li").all_inner_texts()
