"""Side-by-side benchmark suite for covet (see benchmarks/README.md)."""
