#!/usr/bin/env python3
"""Create or refresh the TechEmpower-style tables the database scenarios read.

Idempotent: `world` (10,000 rows of id, randomnumber) is rebuilt only when it is not
exactly ids 1..10000; `fortune` is rewritten to TechEmpower's 12 rows every time (cheap);
both are then vacuumed and analysed, so the dead rows left by the `updates` scenario of an
earlier run do not slow this one.

Run with benchmarks/.venv's python (it needs asyncpg); provision.py does so before the database
scenarios. Exit status 0: ready; 2: PostgreSQL not reachable (the message says why).
The DSN is COVET_BENCH_DSN, default postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.apps.common import DSN, FORTUNES, WORLD_ROWS  # noqa: E402

CONNECT_TIMEOUT_S = 5


async def setup() -> str:
    """Bring the tables to their expected contents; return a one-line summary."""
    import asyncpg

    conn = await asyncpg.connect(DSN, timeout=CONNECT_TIMEOUT_S)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS world (id integer PRIMARY KEY, randomnumber integer NOT NULL)")
        await conn.execute("CREATE TABLE IF NOT EXISTS fortune (id integer PRIMARY KEY, message text NOT NULL)")
        count, low, high = await conn.fetchrow("SELECT count(*), min(id), max(id) FROM world")
        rebuilt = False
        if (count, low, high) != (WORLD_ROWS, 1, WORLD_ROWS):
            rng = random.Random(20261125)
            rows = [(i, rng.randint(1, WORLD_ROWS)) for i in range(1, WORLD_ROWS + 1)]
            async with conn.transaction():
                await conn.execute("TRUNCATE world")
                await conn.copy_records_to_table("world", records=rows, columns=["id", "randomnumber"])
            rebuilt = True
        async with conn.transaction():
            await conn.execute("DELETE FROM fortune")
            await conn.copy_records_to_table("fortune", records=list(FORTUNES), columns=["id", "message"])
        await conn.execute("VACUUM ANALYZE world")
        await conn.execute("VACUUM ANALYZE fortune")
    finally:
        await conn.close()
    state = "rebuilt" if rebuilt else "kept"
    return f"world: {WORLD_ROWS} rows ({state}); fortune: {len(FORTUNES)} rows"


def main() -> int:
    """Set up the tables, or explain why PostgreSQL could not be used."""
    try:
        summary = asyncio.run(asyncio.wait_for(setup(), timeout=120))
    except ImportError as exc:
        print(f"db_setup: asyncpg is not installed for {sys.executable}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # refused, unreachable, timed out (TimeoutError is one)
        print(f"db_setup: PostgreSQL not reachable at {DSN}: {exc!r}", file=sys.stderr)
        return 2
    except Exception as exc:  # asyncpg's own errors (authentication, missing database, ...)
        print(f"db_setup: PostgreSQL at {DSN} refused the set-up: {exc!r}", file=sys.stderr)
        return 2
    print(f"db_setup: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
