"""A small in-memory shop API written the FastAPI way with covet (see app.py)."""
