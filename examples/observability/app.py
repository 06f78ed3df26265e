"""Observability: engine metrics at /metrics (with a metric of the app's own, the cache's
hits and misses and the database pool), the liveness and readiness probes, request ids and
an access line per request in JSON, and OpenTelemetry traces when a collector is named.

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
        .venv/bin/python -m covet run examples.observability.app:app --workers 2 \
        --log-format auto --shutdown-delay 5
    curl -i http://127.0.0.1:8000/products/1      # X-Request-ID, traceparent
    curl http://127.0.0.1:8000/metrics
    curl http://127.0.0.1:8000/readyz

DATABASE_URL picks the database (SQLite in memory by default). See docs/observability.md."""

import logging
import os

from sqlalchemy import text

from covet import Covet, HTTPException
from covet.cache import Cache, MemoryLevel
from covet.db import Database
from covet.health import health_checks
from covet.logs import request_logging
from covet.metrics import Counter, Histogram, instrument

app = Covet(title="Observed shop")
db = Database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///:memory:"))
db.init_app(app)

orders_placed = Counter("shop_orders_placed", "Orders placed, by payment method", ["payment"])
basket_size = Histogram("shop_basket_items", "Items per order", buckets=(1, 2, 5, 10, 20, 50))

cache = Cache(MemoryLevel(), namespace="shop", ttl=60)
log = logging.getLogger("shop")

PRODUCTS = {1: "tea", 2: "coffee"}


@app.get("/products/{product_id}")
async def product(product_id: int) -> dict[str, object]:
    if product_id not in PRODUCTS:
        log.info("unknown product %d asked for", product_id)  # carries the request id
        raise HTTPException(404, "No such product")
    stock = await cache.get(f"stock:{product_id}")
    if stock is None:
        async with db.transaction() as session:
            stock = (await session.execute(text("SELECT :n * 10"), {"n": product_id})).scalar_one()
        await cache.set(f"stock:{product_id}", stock)
    return {"id": product_id, "name": PRODUCTS[product_id], "stock": stock}


@app.post("/orders", status_code=201)
async def order(items: int, payment: str = "card") -> dict[str, object]:
    orders_placed.labels(payment).inc()
    basket_size.observe(items)
    return {"items": items, "payment": payment}


metrics = instrument(app)  # GET /metrics
metrics.watch(cache, "shop")  # covet_cache_hits_total{cache="shop",level="memory"}...
metrics.watch(db, "main")  # covet_db_pool_in_use{database="main"}...
health_checks(app, {"database": db}, timeout=1.0)  # GET /healthz, GET /readyz
request_logging(app)  # X-Request-ID in and out, one access line per request

if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
    from covet.tracing import tracing

    tracing(app, service_name="observed-shop")  # a span per request, SQL and cache spans under it
