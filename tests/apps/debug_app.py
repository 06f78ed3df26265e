"""An app with the debug page and its console (tests/test_debug_page.py)."""

from __future__ import annotations

import json

from covet import Covet, Request
from covet.debug import enable_console

app = Covet()
enable_console(app)


def helper(numbers: list[int]) -> float:
    total = sum(numbers)
    return total / len(numbers[3:])  # ZeroDivisionError


@app.post("/boom")
async def boom(request: Request) -> float:
    secret_local = "visible in the debug page"
    numbers = json.loads(await request.body())
    return helper(numbers) + len(secret_local)
