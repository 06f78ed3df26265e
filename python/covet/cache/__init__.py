"""covet.cache: multi-level caching (the engine's memory, Redis, Memcached) with stampede
protection, stale-while-revalidate and invalidation across processes. See docs/caching.md."""

from .core import Cache
from .health import LevelDown
from .levels import Level, MemoryLevel, RedisLevel
from .memcached import MemcachedLevel
from .response import CachePolicy
from .serializers import JSON, Pickle, Raw, Serializer

__all__ = [
    "JSON",
    "Cache",
    "CachePolicy",
    "Level",
    "LevelDown",
    "MemcachedLevel",
    "MemoryLevel",
    "Pickle",
    "Raw",
    "RedisLevel",
    "Serializer",
]
