"""Type stubs for covet's Rust extension (crates/covet-py)."""

from collections.abc import Callable
from typing import Any, Literal

FOUND: int
NOT_FOUND: int
METHOD_NOT_ALLOWED: int
REDIRECT: int
MOUNT: int

def dumps(obj: Any, default: Callable[[Any], Any] | None = None) -> bytes: ...
def parse_qsl(data: bytes) -> list[tuple[str, str]]: ...
def escape_html(value: Any) -> str: ...

# ("start", name, filename, content_type, headers), ("data", content), ("end",), ("done",)
MultipartEvent = (
    tuple[Literal["start"], str, str | None, str | None, list[tuple[str, str]]]
    | tuple[Literal["data"], bytes]
    | tuple[Literal["end"]]
    | tuple[Literal["done"]]
)

class MultipartParser:
    """Incremental multipart/form-data parser: feed it the body in any pieces, get events back.
    ValueError when malformed (or no boundary in content_type), OverflowError over a limit."""

    def __init__(
        self,
        content_type: str,
        max_parts: int = 1000,
        max_field_size: int = 1048576,
        max_header_size: int = 16384,
    ) -> None: ...
    def feed(self, data: bytes) -> list[MultipartEvent]: ...
    def finish(self) -> list[MultipartEvent]: ...

class RateLimiter:
    """GCRA: `limit` per `period` seconds, `burst` at once, keys bounded by `max_keys`.
    ValueError for a zero limit or burst, or a period too short for the limit."""

    def __init__(self, limit: int, period: float, burst: int, max_keys: int = 100000) -> None: ...
    # (allowed, limit, remaining, reset_after seconds, retry_after seconds); `now` in seconds
    # on the caller's monotonic clock.
    def check(self, key: bytes, cost: int, now: float) -> tuple[bool, int, int, float, float]: ...
    def __len__(self) -> int: ...

class MemoryCache:
    """covet.cache's memory level: bounded by entries and bytes, S3-FIFO or LRU eviction."""

    def __init__(self, max_items: int = 10000, max_bytes: int = 67108864, policy: str = "s3fifo") -> None: ...
    def get(self, key: bytes) -> bytes | None: ...
    def get_many(self, keys: list[bytes]) -> list[bytes | None]: ...
    def set(self, key: bytes, value: bytes, ttl: float | None = None, tags: list[str] = ...) -> None: ...
    def delete(self, key: bytes) -> bool: ...
    def delete_prefix(self, prefix: bytes) -> int: ...
    def delete_tags(self, tags: list[str]) -> int: ...
    def clear(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...

class ResponseCache:
    """A route's response cache in a memory level: covet's server answers its fresh entries
    (and 304s) itself; the Python path computes the same keys and entries through it."""

    def __init__(
        self, memory: MemoryCache | None, prefix: str, vary: list[str] = ..., errors: bool = False
    ) -> None: ...
    def key(self, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> str: ...
    @staticmethod
    def bypasses(cache_control: bytes | None) -> bool: ...
    def entry(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, max_age: int) -> bytes | None: ...
    def answer(
        self, data: bytes, if_none_match: bytes | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None: ...

class Router:
    def __init__(self, redirect_slashes: bool = True) -> None: ...
    def add(self, path: str, methods: list[str] | None, endpoint: int, name: str | None = None) -> None: ...
    def mount(self, prefix: str, endpoint: int, name: str | None = None) -> None: ...
    def lookup(self, method: str, path: str) -> tuple[int, Any, Any, bool]: ...
    def url_path_for(self, name: str, params: dict[str, Any]) -> str: ...
    def __len__(self) -> int: ...

class RawRequest:
    def __init__(
        self,
        method: str,
        path: str,
        raw_path: bytes,
        query_string: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        http_version: str = "1.1",
        client: tuple[str, int] | None = None,
        server: tuple[str, int] | None = None,
        scheme: str = "http",
        root_path: str = "",
        endpoint: int | None = None,
        path_params: dict[str, Any] | None = None,
    ) -> None: ...
    def verified_claims(self, keys: JwtKeys) -> bytes | None: ...
    method: str
    path: str
    raw_path: bytes
    query_string: bytes
    http_version: str
    scheme: str
    root_path: str
    endpoint: int | None
    client: tuple[str, int] | None
    server: tuple[str, int] | None
    headers: list[tuple[str, str]]
    raw_headers: list[tuple[bytes, bytes]]
    body: bytes
    path_params: dict[str, Any]
    body_stream: BodyStream | None
    def query_items(self) -> list[tuple[str, str]]: ...

class BodyStream:
    """The body of a large request, arriving in chunks (`Request.stream()` reads it)."""

    done: bool
    error: tuple[int, str] | None
    def get_nowait(self) -> bytes | None: ...
    def set_waiter(self, fut: Any) -> None: ...

class HttpProtocol:
    closed: bool
    write_paused: bool
    head_only: bool
    def connection_made(self, transport: Any) -> None: ...
    def data_received(self, data: bytes) -> None: ...
    def eof_received(self) -> bool: ...
    def connection_lost(self, _exc: BaseException | None) -> None: ...
    def pause_writing(self) -> None: ...
    def resume_writing(self) -> None: ...
    def set_drain_waiter(self, fut: Any) -> None: ...
    def wake_drain(self) -> None: ...
    def set_disconnect_waiter(self, fut: Any) -> None: ...
    def send_response(self, response: Any) -> None: ...
    def send_static(self, answer: StaticAnswer) -> None: ...
    def start_stream(self, response: Any, content_length: int | None = None) -> None: ...
    def write_chunk(self, data: bytes) -> None: ...
    def end_stream(self) -> None: ...
    def request_done(self) -> None: ...
    def abort(self) -> None: ...

class ArgSpec:
    """An argument the engine builds itself; `kind` is one of `KINDS`."""

    KINDS: tuple[type, ...]
    def __init__(
        self, name: str, key: str, kind: type, *, from_path: bool, required: bool, default: Any = None
    ) -> None: ...

class FastSpec:
    """An endpoint whose arguments the engine builds (`body`: a JSON body parameter's name,
    `validate_body`: pydantic-core's `validate_json` for it)."""

    def __init__(
        self,
        handler: Callable[..., Any],
        args: list[ArgSpec],
        *,
        body: str | None = None,
        validate_body: Callable[[bytes], Any] | None = None,
    ) -> None: ...

class ResponseShape:
    """A response model the engine checks while it encodes: Any, scalars of `SCALARS`, list,
    str-keyed dict."""

    SCALARS: tuple[type, ...]
    @staticmethod
    def any() -> ResponseShape: ...
    @staticmethod
    def scalars(types: list[type]) -> ResponseShape: ...
    @staticmethod
    def list(inner: ResponseShape) -> ResponseShape: ...
    @staticmethod
    def dict(inner: ResponseShape) -> ResponseShape: ...

class EndpointSpec:
    """How the engine calls one endpoint (see crates/covet-py/src/convert/endpoint.rs)."""

    def __init__(
        self,
        call: Callable[..., Any],
        *,
        noarg: bool = False,
        inline: bool = False,
        task: bool = False,
        status: int = 200,
        fast: FastSpec | None = None,
        convert: Callable[[Any], Any] | None = None,
        shape: ResponseShape | None = None,
        text: bytes | None = None,
    ) -> None: ...

class JwtCheckSpec:
    """One `JWTAuth` a route's guard verifies (`chain`: the dependencies leading to it)."""

    def __init__(
        self,
        keys: JwtKeys,
        *,
        token_type: str | None,
        auto_error: bool,
        chain: list[Any],
        log: Callable[[str, str, str], None],
    ) -> None: ...

class GuardSpec:
    """A route's guard: the application (for its `dependency_overrides`) and its checks."""

    def __init__(self, app: Any, checks: list[JwtCheckSpec]) -> None: ...

class Server:
    def __init__(
        self,
        router: Router,
        spawn: Callable[..., None],
        response_type: type,
        json_default: Callable[[Any], Any],
        error_log: Callable[[int, str, tuple[str, int] | None], None],
        access_log: Callable[..., None] | None = None,
        max_head_bytes: int = 16384,
        max_headers: int = 100,
        max_body_bytes: int = 10485760,
        header_timeout: float = 10.0,
        keepalive_timeout: float = 5.0,
        stream_threshold: int = 1048576,
        body_timeout: float = 10.0,
        min_body_rate: int = 500,
        max_connections: int = 10000,
        root_path: str = "",
    ) -> None: ...
    def set_endpoints(self, endpoints: list[EndpointSpec]) -> None: ...
    def set_native_errors(self, on: bool) -> None: ...
    def set_request_ids(self, header: str, trust: bool, var: Any) -> None: ...
    def set_access_lines(
        self,
        routes: list[str],
        fd: int | None = None,
        text_offset: int | None = None,
        schedule: Any = None,
        callback: Any = None,
    ) -> None: ...
    def flush_access_log(self) -> None: ...
    def set_tasks(self, tasks: set[Any]) -> None: ...
    def set_policy(self, policy: Policy | None) -> None: ...
    def set_websocket_options(
        self,
        max_message: int = 1048576,
        ping_interval: float = 20.0,
        ping_timeout: float = 20.0,
        max_queue: int = 32,
        max_send_buffer: int = 1048576,
        deflate: bool = True,
        max_queue_bytes: int = 1048576,
        max_process_queue_bytes: int = 16777216,
    ) -> None: ...
    def set_guards(self, guards: list[GuardSpec | None]) -> None: ...
    def set_static(self, mounts: list[tuple[int, StaticDir]]) -> None: ...
    def set_response_caches(self, caches: list[tuple[int, ResponseCache]]) -> None: ...
    def __call__(self) -> HttpProtocol: ...
    def sweep(self) -> None: ...
    def shutdown(self) -> None: ...
    def close_all(self) -> None: ...
    def connection_count(self) -> int: ...

class StaticDir:
    def __init__(
        self,
        directories: list[str],
        *,
        html: bool = False,
        follow_symlink: bool = False,
        allow_hidden: bool = False,
        precompressed: bool = True,
        cache_control: list[tuple[str, str]] = ...,
        cache_max_file: int = 65536,
        cache_max_bytes: int = 16777216,
    ) -> None: ...
    def answer(
        self, method: str, path: str, full_path: str, query: bytes, headers: list[tuple[bytes, bytes]]
    ) -> StaticAnswer: ...

class StaticAnswer:
    status: int
    length: int
    headers: list[tuple[bytes, bytes]]
    def read(self, size: int) -> bytes: ...

def file_answer(
    path: str,
    content_type: bytes,
    method: str,
    headers: list[tuple[bytes, bytes]],
    status: int = 200,
    extra: list[tuple[bytes, bytes]] = ...,
) -> StaticAnswer:
    """A FileResponse's answer (validators, If-*, Range as for StaticFiles); OSError when the
    path is missing or not a file."""

class EngineMetrics:
    """One worker's request counters and latency histograms (covet.metrics)."""

    def __init__(self, routes: list[str]) -> None: ...
    def install(self, server: Server) -> None: ...
    def snapshot(self) -> dict[str, Any]: ...
    def gauges(self, server: Server) -> tuple[int, int, int]: ...
    @staticmethod
    def buckets() -> list[float]: ...

class JwtError(ValueError):
    """A refused token or key; args are (kind, message), kind one of covet.jwt's error kinds."""

class JwtKeys:
    """JWT keys by kid (one signing key) and the claims a token must satisfy (covet.jwt)."""

    def __init__(
        self,
        *,
        algorithms: list[str] = ...,
        leeway: int = 0,
        issuer: str | None = None,
        audience: list[str] = ...,
        required: list[str] = ...,
    ) -> None: ...
    def add_secret(self, kid: str, algorithm_name: str, secret: bytes, signing: bool) -> None: ...
    def add_pem(self, kid: str, algorithm_name: str, pem: bytes, signing: bool) -> None: ...
    def add_jwks(self, jwks: bytes, default_algorithm: str | None = None) -> list[str]: ...
    def remove(self, kid: str) -> bool: ...
    def keys(self) -> list[tuple[str, str, bool]]: ...
    @property
    def signing_kid(self) -> str | None: ...
    def jwks(self) -> str: ...
    def encode(self, claims: bytes, kid: str | None = None) -> str: ...
    def decode(self, token: str, now: float) -> tuple[str, bytes]: ...

class Policy:
    """Engine middleware compiled from `(kind, options)` stages, outermost first; kinds are
    "cors", "security_headers", "trusted_host", "https_redirect". Bad options raise ValueError."""

    def __init__(self, stages: list[tuple[str, dict[str, Any]]]) -> None: ...
    def check(self, raw: RawRequest) -> tuple[int, list[tuple[bytes, bytes]], bytes, str | None] | PolicyHeaders:
        """An answer (status, headers, body, refusal detail) or the headers its response gets."""

class PolicyHeaders:
    def apply(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Appends the headers a response does not already have (`vary` is always added)."""

class WsConnection:
    """One upgraded connection; created by the engine, handed to the route's endpoint call."""

    subprotocols: list[str]
    closed: bool
    compressed: bool
    def accept(self, subprotocol: str | None = None, headers: list[tuple[bytes, bytes]] = ...) -> None: ...
    def reject(self, status: int, code: int = 1000, reason: str = "") -> None: ...
    # str, bytes, (code, reason) once disconnected, or None when nothing arrived yet
    def receive_nowait(self) -> str | bytes | tuple[int, str] | None: ...
    def set_waiter(self, fut: Any) -> None: ...
    # 0 sent, 1 sent but await set_drain_waiter, 2 not sent (closed)
    def send(self, data: str | bytes) -> int: ...
    def set_drain_waiter(self, fut: Any) -> None: ...
    def close(self, code: int = 1000, reason: str = "") -> None: ...
    def finish(self, error: bool) -> None: ...

class WebSocketGroup:
    """Connections that `broadcast` writes one frame to, in Rust."""

    def __init__(self) -> None: ...
    def add(self, conn: WsConnection) -> None: ...
    def discard(self, conn: WsConnection) -> None: ...
    def __contains__(self, conn: WsConnection) -> bool: ...
    def __len__(self) -> int: ...
    def broadcast(self, message: str | bytes, exclude: WsConnection | None = None) -> int: ...

class WsClientCodec:
    """The client end of the frame codec (the TestClient's WebSocket sessions)."""

    def __init__(self, deflate: bool = False, max_message: int = 16777216) -> None: ...
    def feed(self, data: bytes) -> None: ...
    def next(self) -> str | bytes | tuple[int, str] | None: ...
    def take_replies(self) -> bytes: ...
    def encode(self, message: str | bytes) -> bytes: ...
    def encode_close(self, code: int = 1000, reason: str = "") -> bytes: ...
