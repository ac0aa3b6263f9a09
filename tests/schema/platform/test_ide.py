"""GraphiQL as a person uses it, in a real headless Chromium with no way out to the internet: the page renders
the editor from the service's own files, a login runs from the editor, and a query with its token returns data.

Skipped only where Chromium is absent and the run is not CI's (PALMCREDIT_REQUIRE_BROWSER=1 makes it fail)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Page, async_playwright

from schema.platform import ide
from tests.factories import PASSWORD, World

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None and not os.environ.get("PALMCREDIT_REQUIRE_BROWSER"):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def served(app: Any) -> AsyncIterator[str]:
    """The app on a real loopback port, in this event loop (so it shares the test database)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    serving = asyncio.ensure_future(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn shows only a flag
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


async def run_in_editor(page: Page, query: str, headers: dict[str, str] | None = None) -> Any:
    """Type the operation (and headers) into GraphiQL's editors, press run and read the response pane."""
    await page.evaluate(
        """([query, headers]) => {
            document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query);
            const editor = document.querySelector('.graphiql-editor-tool .CodeMirror:not(:first-child)')
                || [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].pop();
            if (headers) editor.CodeMirror.setValue(headers);
            document.querySelector('.graphiql-response .CodeMirror').CodeMirror.setValue('');
        }""",
        [query, json.dumps(headers) if headers else ""],
    )
    await page.click(".graphiql-execute-button")
    await page.wait_for_function(
        "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue().startsWith('{')"
    )
    return json.loads(
        await page.evaluate("document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()")
    )


async def test_graphiql_signs_in_and_queries_without_the_internet(world: World, served: str) -> None:
    assert CHROMIUM is not None, "Chromium is required here (PALMCREDIT_REQUIRE_BROWSER=1)"
    assert ide.assets_missing() == [], "run make install: it puts GraphiQL's files in ide-assets/"
    requested: list[str] = []
    with tempfile.TemporaryDirectory() as profile:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=FLAGS, headless=True
            )  # a fresh profile: the --user-data-dir playwright passes
            page = await browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            await page.goto(f"{served}/graphql")
            await page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=20_000)

            login = await run_in_editor(
                page,
                f'mutation {{ login(username: "head", password: "{PASSWORD}") {{ ... on LoginSuccess {{ token }} }} }}',
            )
            token = login["data"]["login"]["token"]
            viewer = await run_in_editor(
                page, "{ viewer { staff { username } } }", headers={"Authorization": f"Bearer {token}"}
            )
            await browser.close()

    assert viewer == {"data": {"viewer": {"staff": {"username": "head"}}}}
    outside = [url for url in requested if not url.startswith((served, "data:"))]
    assert outside == []
    assert {f"{served}/graphiql/{asset.name}" for asset in ide.ASSETS} <= set(requested)


async def test_the_ide_page_loads_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    script = await client.get(f"/graphiql/{ide.GRAPHIQL_JS.name}")

    assert page.status_code == 200
    assert "https://" not in page.text
    assert "http://" not in page.text
    for asset in ide.ASSETS:
        assert f'"/graphiql/{asset.name}" integrity="{asset.integrity}"' in page.text
    assert script.status_code == 200
    assert ide.digest(script.content) == ide.GRAPHIQL_JS.sha384
