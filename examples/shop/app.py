"""A small shop API written exactly as one would with FastAPI: routers, typed parameters,
pydantic models, dependencies, an API key and a file upload, on covet's engine.

It doubles as the target of the schemathesis test (tests/test_schemathesis.py), so every status
code a route can answer is documented in its OpenAPI operation.

Run it with `python -m covet run examples.shop.app:app` and open http://127.0.0.1:8000/docs.
Write routes need the `X-API-Key` header; the key is `$SHOP_API_KEY`, `shop-secret` by default.
"""

import asyncio
import os
import secrets
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from covet import APIRouter, Covet, Depends, File, HTTPException, Path, Query, UploadFile, status
from covet.security import APIKeyHeader

# Read once at import: the example has a single key, and a default so it runs with no setup.
API_KEY = os.environ.get("SHOP_API_KEY", "shop-secret")


# --- models -------------------------------------------------------------------------------------


class ItemIn(BaseModel):
    """What a client sends to create an item."""

    name: str = Field(min_length=1, max_length=100, examples=["Teapot"])
    price: float = Field(gt=0, examples=[12.5])
    tags: list[str] = Field(default_factory=list, examples=[["kitchen"]])


class ItemPatch(BaseModel):
    """A partial update: only the fields the client sends are changed (hence `exclude_unset`).

    A field may be left out but not sent as `null`: the stored item is updated with
    `model_copy`, which does not validate, so a null would reach the response as an invalid
    `ItemOut`. `SkipJsonSchema[None]` keeps `null` out of the documented schema; the validator
    refuses it with a 422."""

    # The constraints sit on the inner type: on the union, pydantic would document `gt` as is
    # instead of as `exclusiveMinimum`.
    name: Annotated[str, Field(min_length=1, max_length=100)] | SkipJsonSchema[None] = None
    price: Annotated[float, Field(gt=0)] | SkipJsonSchema[None] = None
    tags: list[str] | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def no_nulls(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may be left out, but not null")
        return self


class ItemOut(BaseModel):
    """An item as the API returns it."""

    id: int
    name: str
    price: float
    tags: list[str]


class ImageInfo(BaseModel):
    """What the upload endpoint learned about the file; the bytes themselves are not kept."""

    item_id: int
    filename: str | None
    content_type: str | None
    size: int


class Message(BaseModel):
    """The body of an error response (`HTTPException`'s `detail`)."""

    detail: str


# --- the store ----------------------------------------------------------------------------------


class Store:
    """Items in a dict. Handlers that await (uploads, the lock itself) can interleave on the
    event loop, so every read-modify-write holds `lock` to keep ids unique and updates whole."""

    def __init__(self) -> None:
        self.items: dict[int, ItemOut] = {}
        self.next_id = 1
        self.lock = asyncio.Lock()

    async def add(self, item: ItemIn) -> ItemOut:
        async with self.lock:
            stored = ItemOut(id=self.next_id, **item.model_dump())
            self.items[stored.id] = stored
            self.next_id += 1
            return stored

    async def get(self, item_id: int) -> ItemOut:
        async with self.lock:
            return self._get(item_id)

    async def update(self, item_id: int, changes: dict[str, Any]) -> ItemOut:
        async with self.lock:
            updated = self._get(item_id).model_copy(update=changes)
            self.items[item_id] = updated
            return updated

    async def remove(self, item_id: int) -> None:
        async with self.lock:
            self._get(item_id)
            del self.items[item_id]

    async def select(self, tags: list[str], offset: int, limit: int) -> list[ItemOut]:
        async with self.lock:
            found = [item for item in self.items.values() if all(tag in item.tags for tag in tags)]
        return found[offset : offset + limit]

    def _get(self, item_id: int) -> ItemOut:
        try:
            return self.items[item_id]
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"Item {item_id} not found") from None


store = Store()


def get_store() -> Store:
    """The store as a dependency, so a test or another deployment can override it."""
    return store


# --- dependencies -------------------------------------------------------------------------------


class Pagination:
    """`?offset=&limit=`, shared by every listing. A class dependency, as in FastAPI's tutorial:
    `Depends()` with no argument calls the annotated class with the query parameters of its
    `__init__`, and the handler gets a typed object instead of two loose integers."""

    def __init__(
        self,
        offset: Annotated[int, Query(ge=0, le=10_000, description="Items to skip")] = 0,
        limit: Annotated[int, Query(ge=1, le=100, description="Items to return at most")] = 10,
    ) -> None:
        self.offset = offset
        self.limit = limit


api_key_header = APIKeyHeader(name="X-API-Key", description="The shop's API key (`$SHOP_API_KEY`).")


async def require_api_key(key: Annotated[str, Depends(api_key_header)]) -> None:
    """A missing key is a 401 (from APIKeyHeader); a wrong one a 403, compared in constant time
    so the answer's timing does not leak how much of the key was right."""
    if not secrets.compare_digest(key.encode(), API_KEY.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Invalid API key")


StoreDep = Annotated[Store, Depends(get_store)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The item's id")]

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Message, "description": "No such item"}}
AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "No API key"},
    403: {"model": Message, "description": "Wrong API key"},
}
write_access = [Depends(require_api_key)]


# --- routes -------------------------------------------------------------------------------------

router = APIRouter(prefix="/items", tags=["items"])


@router.get("", summary="List items", response_model=list[ItemOut])
async def list_items(
    shop: StoreDep,
    page: Annotated[Pagination, Depends()],
    tag: Annotated[list[str], Query(description="Only items with all these tags")] = [],  # noqa: B006
) -> list[ItemOut]:
    """Items in creation order, filtered by tag and paginated."""
    return await shop.select(tag, page.offset, page.limit)


@router.get("/{item_id}", summary="Get an item", response_model=ItemOut, responses=NOT_FOUND)
async def get_item(item_id: ItemId, shop: StoreDep) -> ItemOut:
    return await shop.get(item_id)


@router.post(
    "",
    summary="Create an item",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemOut,
    dependencies=write_access,
    responses=AUTH,
)
async def create_item(item: ItemIn, shop: StoreDep) -> ItemOut:
    return await shop.add(item)


@router.patch(
    "/{item_id}",
    summary="Update an item",
    response_model=ItemOut,
    dependencies=write_access,
    responses={**AUTH, **NOT_FOUND},
)
async def update_item(item_id: ItemId, patch: ItemPatch, shop: StoreDep) -> ItemOut:
    """Changes only the fields present in the body; `{"tags": []}` clears the tags, `{}` changes nothing."""
    return await shop.update(item_id, patch.model_dump(exclude_unset=True))


@router.delete(
    "/{item_id}",
    summary="Delete an item",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=write_access,
    responses={**AUTH, **NOT_FOUND},
)
async def delete_item(item_id: ItemId, shop: StoreDep) -> None:
    await shop.remove(item_id)


@router.post(
    "/{item_id}/image",
    summary="Upload an item's image",
    response_model=ImageInfo,
    dependencies=write_access,
    responses={**AUTH, **NOT_FOUND, 400: {"model": Message, "description": "Malformed multipart body"}},
)
async def upload_image(item_id: ItemId, image: Annotated[UploadFile, File()], shop: StoreDep) -> ImageInfo:
    """Reads the file and reports its size and type (a real shop would store it somewhere)."""
    await shop.get(item_id)
    size = len(await image.read())
    return ImageInfo(item_id=item_id, filename=image.filename, content_type=image.content_type, size=size)


app = Covet(
    title="covet shop",
    version="1.0.0",
    summary="An in-memory shop: the FastAPI way, on covet",
    openapi_tags=[{"name": "items", "description": "The shop's catalogue"}],
)
app.include_router(router)


@app.get("/health", summary="Health check", tags=["meta"])
async def health() -> dict[str, str]:
    return {"status": "ok"}
