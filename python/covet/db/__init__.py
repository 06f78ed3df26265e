"""covet.db: SQLAlchemy 2 (async) and Alembic, wired into a covet app.

```python
from covet.db import Database

db = Database("postgresql+asyncpg://...", metadata=Base.metadata)   # DATABASE_URL, else SQLite
db.init_app(app)


@app.post("/users", status_code=201)
async def create(data: UserIn, session: AsyncSession = Depends(db.session)) -> UserOut:
    return await save(session, to_orm(data, User))
```

See docs/database.md.
"""

from typing import TYPE_CHECKING

from covet.db.database import DEFAULT_URL, Database
from covet.db.errors import CommitOutcomeUnknown, PoolTimeout, describe

if TYPE_CHECKING:
    from covet.db.idempotency import Idempotency, IdempotentRequest
    from covet.db.pagination import Page, PageQuery, Paginator
    from covet.db.schemas import apply_patch, to_orm, to_schema
    from covet.db.seeding import get_or_create
    from covet.db.validation import get_or_404, save

# These need SQLAlchemy, loaded on first use of one of them: an app on the lean path alone
# (`db.connection()`, `db.prepare("SQL")`) never loads it (about 19 MiB per worker).
_LAZY = {
    "Idempotency": "idempotency",
    "IdempotentRequest": "idempotency",
    "Page": "pagination",
    "PageQuery": "pagination",
    "Paginator": "pagination",
    "apply_patch": "schemas",
    "to_orm": "schemas",
    "to_schema": "schemas",
    "get_or_create": "seeding",
    "get_or_404": "validation",
    "save": "validation",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'covet.db' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"covet.db.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CommitOutcomeUnknown",
    "DEFAULT_URL",
    "Database",
    "Idempotency",
    "IdempotentRequest",
    "Page",
    "PageQuery",
    "Paginator",
    "PoolTimeout",
    "apply_patch",
    "describe",
    "get_or_404",
    "get_or_create",
    "save",
    "to_orm",
    "to_schema",
]
