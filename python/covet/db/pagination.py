"""Pagination, sorting and filtering over an allow-list of columns.

`Paginator(Model, sortable=[...], filterable=[...])` is a dependency reading `limit`, `offset`
or `cursor`, `sort` (`-created_at,title`) and `filter[name]=value` from the query string. Only
allow-listed attributes ever reach SQL, as bound columns and parameters; an unknown name is a
422. The primary key always ends the ordering, so pages are stable when sort values tie.

Two ways to page: limit/offset when `offset` is given (simple, can show "page 7"), otherwise
keyset (`cursor`, the default): the opaque
token holds the last row's sort values, and the next page is "rows after these", which neither
skips nor repeats rows when others are inserted meanwhile and costs the same on page 1000.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Select, and_, or_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from covet.exceptions import RequestValidationError
from covet.params import Query
from covet.requests import Request

__all__ = ["Page", "PageQuery", "Paginator"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page: `next_cursor` is set in keyset mode when more rows follow."""

    items: list[T]
    limit: int
    offset: int | None = None
    next_cursor: str | None = None


def _error(loc: list[str | int], msg: str, value: Any, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": msg, "input": value}])


@dataclass
class PageQuery:
    """What the client asked for, checked against the allow-lists; `fetch` runs it."""

    paginator: Paginator
    limit: int
    offset: int
    order: list[tuple[str, bool]]  # (attribute, descending), primary key last
    filters: dict[str, Any]
    after: list[Any] | None  # keyset: the previous page's last sort values
    keyset: bool

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """`stmt` with the filters, the ordering and the page window added."""
        model = self.paginator.model
        for name, value in self.filters.items():
            stmt = stmt.where(getattr(model, name) == value)
        columns = [(getattr(model, name), desc) for name, desc in self.order]
        if self.after is not None:
            stmt = stmt.where(_after(columns, self.after))
        stmt = stmt.order_by(*[col.desc() if desc else col.asc() for col, desc in columns])
        stmt = stmt.limit(self.limit + 1 if self.keyset else self.limit)
        return stmt if self.keyset else stmt.offset(self.offset)

    async def fetch(self, session: AsyncSession, stmt: Select[Any] | None = None) -> Page[Any]:
        """Runs `stmt` (default: every row of the model) as this page."""
        query = stmt if stmt is not None else _select_all(self.paginator.model)
        rows = list((await session.scalars(self.apply(query))).all())
        if not self.keyset:
            return Page(items=rows, limit=self.limit, offset=self.offset)
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        cursor = self.paginator.encode_cursor(rows[-1], self.order) if more and rows else None
        return Page(items=rows, limit=self.limit, next_cursor=cursor)


def _select_all(model: Any) -> Select[Any]:
    from sqlalchemy import select

    return select(model)


def _after(columns: list[tuple[Any, bool]], values: list[Any]) -> Any:
    """Rows strictly after `values` in this ordering: (a > x) or (a = x and b > y) or ...,
    with < for descending columns (row-value comparison cannot mix directions)."""
    clauses = []
    for i, (col, desc) in enumerate(columns):
        equal = [c == v for (c, _), v in zip(columns[:i], values[:i], strict=True)]
        step = col < values[i] if desc else col > values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


class Paginator:
    """A dependency: `page: PageQuery = Depends(Paginator(Task, sortable=["title"]))`."""

    def __init__(
        self,
        model: type[Any],
        *,
        sortable: list[str] | tuple[str, ...] = (),
        filterable: list[str] | tuple[str, ...] = (),
        default_sort: str | None = None,
        default_limit: int = 20,
        max_limit: int = 100,
    ) -> None:
        mapper = sa_inspect(model)
        columns = {attr.key: attr for attr in mapper.column_attrs}
        for name in (*sortable, *filterable):
            if name not in columns:
                raise ValueError(f"{model.__name__}.{name} is not a mapped column: it cannot be sorted or filtered on")
        if len(mapper.primary_key) != 1:
            raise TypeError("Paginator needs a single-column primary key (the tie-break)")
        self.model = model
        self.pk = mapper.get_property_by_column(mapper.primary_key[0]).key
        self.sortable = set(sortable) | {self.pk}
        self.filterable = set(filterable)
        self.default_sort = default_sort or self.pk
        self.default_limit = default_limit
        self.max_limit = max_limit
        self._adapters = {
            name: TypeAdapter(columns[name].columns[0].type.python_type) for name in self.sortable | self.filterable
        }

    async def __call__(
        self,
        request: Request,
        limit: int | None = Query(None, ge=1, description="rows per page"),
        offset: int | None = Query(None, ge=0, description="rows to skip (limit/offset paging)"),
        cursor: str | None = Query(None, description="next_cursor of the previous page (keyset paging)"),
        sort: str | None = Query(None, description="comma-separated columns, '-' for descending"),
    ) -> PageQuery:
        size = limit or self.default_limit
        if size > self.max_limit:
            raise _error(["query", "limit"], f"Input should be less than or equal to {self.max_limit}", limit)
        if offset is not None and cursor is not None:
            raise _error(["query", "cursor"], "Give either offset or cursor, not both", cursor)
        order = self._order(sort or self.default_sort)
        after = self.decode_cursor(cursor, order) if cursor else None
        return PageQuery(self, size, offset or 0, order, self._filters(request), after, keyset=offset is None)

    def _order(self, sort: str) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        for part in sort.split(","):
            name = part.strip()
            desc = name.startswith("-")
            name = name.lstrip("-+")
            if name not in self.sortable:
                allowed = ", ".join(sorted(self.sortable))
                raise _error(["query", "sort"], f"Cannot sort by {name!r}; allowed: {allowed}", sort)
            if name != self.pk:
                order.append((name, desc))
        pk_desc = next((desc for name, desc in order if name == self.pk), order[0][1] if order else False)
        order.append((self.pk, pk_desc))
        return order

    def _filters(self, request: Request) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        for key in request.query_params:
            if not (key.startswith("filter[") and key.endswith("]")):
                continue
            name = key[len("filter[") : -1]
            raw = request.query_params[key]
            if name not in self.filterable:
                allowed = ", ".join(sorted(self.filterable)) or "none"
                raise _error(["query", key], f"Cannot filter on {name!r}; allowed: {allowed}", raw)
            try:
                filters[name] = self._adapters[name].validate_python(raw, strict=False)
            except ValidationError as exc:
                raise _error(["query", key], exc.errors(include_url=False)[0]["msg"], raw) from None
        return filters

    def encode_cursor(self, row: Any, order: list[tuple[str, bool]]) -> str:
        values = [self._adapters[name].dump_python(getattr(row, name), mode="json") for name, _ in order]
        token = json.dumps([[name for name, _ in order], values], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode_cursor(self, cursor: str, order: list[tuple[str, bool]]) -> list[Any]:
        """The sort values a cursor holds; 422 when it is damaged or from another ordering."""
        try:
            names, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if names != [name for name, _ in order] or len(values) != len(order):
                raise ValueError("the cursor belongs to another ordering")
            return [self._adapters[n].validate_python(v, strict=False) for n, v in zip(names, values, strict=True)]
        except (ValueError, TypeError, binascii.Error, ValidationError, KeyError):
            msg = "Invalid cursor: use next_cursor from the previous page"
            raise _error(["query", "cursor"], msg, cursor) from None
