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

from covet.db.database import DEFAULT_URL, Database
from covet.db.errors import CommitOutcomeUnknown, describe
from covet.db.idempotency import Idempotency, IdempotentRequest
from covet.db.pagination import Page, PageQuery, Paginator
from covet.db.schemas import apply_patch, to_orm, to_schema
from covet.db.seeding import get_or_create
from covet.db.validation import get_or_404, save

__all__ = [
    "CommitOutcomeUnknown",
    "DEFAULT_URL",
    "Database",
    "Idempotency",
    "IdempotentRequest",
    "Page",
    "PageQuery",
    "Paginator",
    "apply_patch",
    "describe",
    "get_or_404",
    "get_or_create",
    "save",
    "to_orm",
    "to_schema",
]
