"""Observability: engine metrics at /metrics (with a metric of the app's own), and the
liveness and readiness probes, the readiness one checking the database.

    .venv/bin/python -m covet run examples.observability.app:app --workers 2
    curl http://127.0.0.1:8000/metrics
    curl http://127.0.0.1:8000/readyz

DATABASE_URL picks the database (SQLite in memory by default). See docs/observability.md."""

import os

from covet import Covet, HTTPException
from covet.db import Database
from covet.health import health_checks
from covet.metrics import Counter, Histogram, instrument

app = Covet(title="Observed shop")
db = Database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///:memory:"))
db.init_app(app)

orders_placed = Counter("shop_orders_placed", "Orders placed, by payment method", ["payment"])
basket_size = Histogram("shop_basket_items", "Items per order", buckets=(1, 2, 5, 10, 20, 50))

PRODUCTS = {1: "tea", 2: "coffee"}


@app.get("/products/{product_id}")
async def product(product_id: int) -> dict[str, object]:
    if product_id not in PRODUCTS:
        raise HTTPException(404, "No such product")
    return {"id": product_id, "name": PRODUCTS[product_id]}


@app.post("/orders", status_code=201)
async def order(items: int, payment: str = "card") -> dict[str, object]:
    orders_placed.labels(payment).inc()
    basket_size.observe(items)
    return {"items": items, "payment": payment}


instrument(app)  # GET /metrics
health_checks(app, {"database": db}, timeout=1.0)  # GET /healthz, GET /readyz
