"""Request-side containers: headers, query parameters, URLs, addresses and free-form state.

They follow Starlette's behaviour (case-insensitive multi-valued headers, multi-valued query
parameters) so code written against FastAPI's `Request` keeps working.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Generic, NamedTuple, TypeVar
from urllib.parse import parse_qsl, urlencode

from covet.concurrency import run_in_threadpool

_T = TypeVar("_T")
_V = TypeVar("_V")


class Address(NamedTuple):
    host: str
    port: int


class ImmutableMultiDict(Mapping[str, _V], Generic[_V]):
    """A mapping whose keys may repeat; `d[k]` gives the last value, `getlist(k)` all of them."""

    __slots__ = ("_list", "_dict")

    def __init__(self, items: Iterable[tuple[str, _V]] | Mapping[str, _V] = ()) -> None:
        if type(items) is list:
            pairs = items  # already a fresh list (the engine's decoded query): no copy
        else:
            pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._list: list[tuple[str, _V]] = pairs
        self._dict: dict[str, _V] = dict(pairs)

    def getlist(self, key: str) -> list[_V]:
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, _V]]:
        return list(self._list)

    def __getitem__(self, key: str) -> _V:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ImmutableMultiDict):
            return sorted(self._list) == sorted(other._list)
        return isinstance(other, Mapping) and dict(self) == dict(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(ImmutableMultiDict[str]):
    """Query string parameters, decoded in Rust (blank values kept)."""

    __slots__ = ()

    def __str__(self) -> str:
        return urlencode(self._list)


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, read-only request or response headers."""

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[str, str]] | None = None,
    ) -> None:
        if raw is not None:
            self._list = raw
        else:
            self._list = [(k.lower(), v) for k, v in (headers or {}).items()]

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self._list]

    def getlist(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self._list if k == key]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        key = key.lower()
        for k, v in self._list:
            if k == key:
                return v
        return default

    def __getitem__(self, key: str) -> str:
        key = key.lower()
        for k, v in self._list:
            if k == key:
                return v
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._list))

    def __len__(self) -> int:
        return len(set(k for k, _ in self._list))

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._list)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and sorted(self._list) == sorted(other._list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class MutableHeaders(Headers):
    """Headers of a response, writable; edits go straight into the response's raw header list."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    @property
    def _list(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self._raw]

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._raw

    def __setitem__(self, key: str, value: str) -> None:
        name = key.lower().encode("latin-1")
        self._raw[:] = [(k, v) for k, v in self._raw if k.lower() != name]
        self._raw.append((name, value.encode("latin-1")))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self._raw[:] = [(k, v) for k, v in self._raw if k.lower() != name]

    def append(self, key: str, value: str) -> None:
        self._raw.append((key.lower().encode("latin-1"), value.encode("latin-1")))

    def setdefault(self, key: str, value: str) -> str:
        existing = self.get(key)
        if existing is None:
            self[key] = value
            return value
        return str(existing)

    def update(self, other: Mapping[str, str]) -> None:
        for k, v in other.items():
            self[k] = v


class URL:
    """The request URL, pieced together from the Host header, path and query string."""

    __slots__ = ("scheme", "netloc", "path", "query")

    def __init__(self, scheme: str, netloc: str, path: str, query: str) -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.path = path
        self.query = query

    @property
    def hostname(self) -> str:
        host = self.netloc
        if host.startswith("["):
            return host[1 : host.find("]")]
        return host.rsplit(":", 1)[0] if ":" in host else host

    @property
    def port(self) -> int | None:
        host = self.netloc.rsplit("]", 1)[-1]
        if ":" in host:
            try:
                return int(host.rsplit(":", 1)[1])
            except ValueError:
                return None
        return None

    def __str__(self) -> str:
        url = f"{self.scheme}://{self.netloc}{self.path}"
        return f"{url}?{self.query}" if self.query else url

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **parts: Any) -> URL:
        """A copy with some parts changed: scheme, netloc, path, query, or hostname/port."""
        netloc = parts.pop("netloc", self.netloc)
        if "hostname" in parts or "port" in parts:
            host = parts.pop("hostname", self.hostname)
            port = parts.pop("port", self.port)
            host = f"[{host}]" if ":" in host else host
            netloc = host if port is None else f"{host}:{port}"
        unknown = set(parts) - {"scheme", "path", "query"}
        if unknown:
            raise TypeError(f"URL.replace() got unexpected parts: {', '.join(sorted(unknown))}")
        return URL(
            parts.get("scheme", self.scheme), netloc, parts.get("path", self.path), parts.get("query", self.query)
        )

    def include_query_params(self, **params: Any) -> URL:
        """A copy with `params` set (replacing any values of the same keys)."""
        kept = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in params]
        return self.replace(query=urlencode([*kept, *((k, str(v)) for k, v in params.items())]))

    def replace_query_params(self, **params: Any) -> URL:
        """A copy whose query is exactly `params`."""
        return self.replace(query=urlencode([(k, str(v)) for k, v in params.items()]))

    def remove_query_params(self, keys: str | Iterable[str]) -> URL:
        drop = {keys} if isinstance(keys, str) else set(keys)
        kept = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in drop]
        return self.replace(query=urlencode(kept))


class State:
    """An attribute bag: `app.state` and `request.state`."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__setattr__("_state", dict(state or {}))

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute '{key}'") from None

    def __delattr__(self, key: str) -> None:
        del self._state[key]


class UploadFile:
    """A file sent in a `multipart/form-data` body; Starlette/FastAPI-compatible.

    `file` is a `tempfile.SpooledTemporaryFile`: small uploads stay in memory, larger ones roll
    over to a temporary file on disk. The async methods run the blocking file call in the thread
    pool only when it may touch the disk (the file has rolled over, or this write will roll it),
    so reading a small upload costs no thread hop.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file = file
        self.filename = filename
        self.size = size
        self.headers = headers if headers is not None else Headers()

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        # Validated as "an UploadFile instance"; documented in OpenAPI as binary data. A text
        # field where a file was expected is a value error worded as FastAPI's.
        from pydantic_core import core_schema

        return core_schema.with_info_plain_validator_function(cls._validate)

    @classmethod
    def _validate(cls, value: Any, info: Any = None) -> Any:
        # `info`: pydantic's ValidationInfo, unused; taken so that code calling the validator
        # the way pydantic does (value, info) works too.
        if not isinstance(value, cls):
            raise ValueError(f"Expected UploadFile, received: {type(value)}")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "format": "binary"}

    @property
    def content_type(self) -> str | None:
        """The part's Content-Type header, as the client sent it."""
        return self.headers.get("content-type")

    @property
    def safe_filename(self) -> str:
        """A name to save this upload under in a directory of yours (`filename` is what the
        client sent, and may be a path, `..`, hidden or empty). See `safe_filename()`."""
        return safe_filename(self.filename)

    @property
    def _in_memory(self) -> bool:
        # A plain file object (no `_rolled`) is treated as on disk: safe, if slower.
        return not getattr(self.file, "_rolled", True)

    def _may_block(self, size_to_add: int = 0) -> bool:
        """Whether a file call could hit the disk: the file has rolled over already, or
        `size_to_add` more bytes would make a SpooledTemporaryFile roll over now."""
        if not self._in_memory:
            return True
        if size_to_add <= 0:
            return False
        max_size = getattr(self.file, "_max_size", 0)
        return bool(max_size) and self.file.tell() + size_to_add > max_size

    async def write(self, data: bytes) -> None:
        """Appends at the current position; `size` counts what was written."""
        if self.size is not None:
            self.size += len(data)
        if self._may_block(len(data)):
            await run_in_threadpool(self.file.write, data)
        else:
            self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        """Reads up to `size` bytes (all that is left when negative) from the current position."""
        if self._may_block():
            return await run_in_threadpool(self.file.read, size)
        return self.file.read(size)

    async def seek(self, offset: int) -> None:
        """Moves to byte `offset` from the start."""
        if self._may_block():
            await run_in_threadpool(self.file.seek, offset)
        else:
            self.file.seek(offset)

    async def close(self) -> None:
        """Closes the file (again is fine); a rolled-over temporary file is deleted from disk."""
        if self.file.closed:
            return
        if self._may_block():
            await run_in_threadpool(self.file.close)
        else:
            self.file.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


# Characters Windows refuses in a name, and ones that mean something to a shell or a URL.
_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f;&$`\'!#%{}\[\]~^=+,]')
_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"] + [f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)]
)
_SUFFIX = re.compile(r"(\.[^.]{1,15}){1,2}$")
MAX_SAFE_FILENAME_BYTES = 200


def safe_filename(filename: str | None, default: str = "upload") -> str:
    """A file name safe to join to a directory of yours: one component (no `/` or `\\`), no
    `..`, no control or invisible characters, not hidden (no leading dot), not a Windows device
    name, at most 200 bytes of UTF-8 with the extension kept; `default` when nothing is left.
    Letters of any script are kept (NFKC-normalised); other characters become `_`. Two uploads
    can still get the same name: add something unique if yours must not overwrite."""
    name = unicodedata.normalize("NFKC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"\.{2,}", ".", name).strip(" ._")
    if not name:
        return default
    suffix = _SUFFIX.search(name)  # `.pdf`, `.tar.gz`: kept whole when the name is cut
    ext = suffix.group(0) if suffix and suffix.start() > 0 else ""
    stem = name[: len(name) - len(ext)]
    if stem.split(".")[0].upper() in _DEVICE_NAMES:
        stem = "_" + stem
    room = MAX_SAFE_FILENAME_BYTES - len(ext.encode())
    stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip(" .")
    return stem + ext if stem else default


class FormData(ImmutableMultiDict[str | UploadFile]):
    """A parsed form: each value is a `str` (a field) or an `UploadFile` (a file part).

    Keys may repeat (`getlist`). `close()` closes every upload; `Request.close()` calls it once
    the response is sent, so a handler need not.
    """

    __slots__ = ()

    async def close(self) -> None:
        """Closes every `UploadFile` of the form (deleting any temporary files)."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()


class DefaultPlaceholder:
    """A default value marked as "not given by the caller", so that a setting left alone can
    be told from one set to the same value (router options merged into an app's, say)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultPlaceholder) and other.value == self.value

    def __hash__(self) -> int:
        return hash((DefaultPlaceholder, self.value))

    def __repr__(self) -> str:
        return f"Default({self.value!r})"


def Default(value: Any) -> Any:  # noqa: N802 - FastAPI's name
    """`value`, wrapped as a default the caller did not choose."""
    return DefaultPlaceholder(value)


class MultiDict(ImmutableMultiDict[Any]):
    """A multi-dict that can be changed: `d[k] = v` replaces every value of `k`, `append` adds one."""

    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: str) -> None:
        self._list = [(k, v) for k, v in self._list if k != key]
        del self._dict[key]

    def pop(self, key: str, *default: Any) -> Any:
        self._list = [(k, v) for k, v in self._list if k != key]
        return self._dict.pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        key, value = self._dict.popitem()
        self._list = [(k, v) for k, v in self._list if k != key]
        return key, value

    def poplist(self, key: str) -> list[Any]:
        values = self.getlist(key)
        self.pop(key, None)
        return values

    def clear(self) -> None:
        self._list.clear()
        self._dict.clear()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self._dict:
            self.append(key, default)
        return self._dict[key]

    def setlist(self, key: str, values: list[Any]) -> None:
        if not values:
            self.pop(key, None)
            return
        self._list = [(k, v) for k, v in self._list if k != key] + [(key, v) for v in values]
        self._dict[key] = values[-1]

    def append(self, key: str, value: Any) -> None:
        self._list.append((key, value))
        self._dict[key] = value

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Replaces the keys it is given (all their values), keeps the others."""
        incoming = MultiDict(*args) if args else MultiDict()
        incoming._list.extend(kwargs.items())
        incoming._dict.update(kwargs)
        keys = set(incoming._dict)
        self._list = [(k, v) for k, v in self._list if k not in keys] + incoming._list
        self._dict = dict(self._list)


class URLPath(str):
    """A path (what `url_path_for` gives), which can be made absolute against a base URL."""

    protocol: str
    host: str

    def __new__(cls, path: str, protocol: str = "", host: str = "") -> URLPath:
        return str.__new__(cls, path)

    def __init__(self, path: str, protocol: str = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> str:
        base = str(base_url)
        scheme, _, rest = base.partition("://")
        netloc, _, base_path = rest.partition("/")
        if self.protocol == "websocket":
            scheme = "wss" if scheme in ("https", "wss") else "ws"
        elif self.protocol == "http":
            scheme = "https" if scheme in ("https", "wss") else "http"
        prefix = "/" + base_path.rstrip("/") if base_path.strip("/") else ""
        return f"{scheme}://{self.host or netloc}{prefix}{self}"


class Secret:
    """A value kept out of logs and reprs (`str(secret)` gives it back)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


class CommaSeparatedStrings(list[str]):
    """`"a, b, 'c d'"` as `["a", "b", "c d"]` (a configuration value listing several items)."""

    def __init__(self, value: str | Iterable[str]) -> None:
        if isinstance(value, str):
            import shlex

            lexer = shlex.shlex(value, posix=True)  # quotes group, commas split
            lexer.whitespace, lexer.whitespace_split = ",", True
            value = [item.strip() for item in lexer]
        super().__init__(value)

    def __str__(self) -> str:
        return ", ".join(repr(item) for item in self)
