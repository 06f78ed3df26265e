"""Rate limiting: GCRA in the engine (per process) or in Redis (shared by every instance).

```python
from covet import Covet, Depends
from covet.ratelimit import Limiter, RateLimit, RateLimitMiddleware

limiter = Limiter("100/minute")

@app.get("/search", dependencies=[Depends(limiter)])
@app.get("/login", dependencies=[Depends(RateLimit("5/minute"))])
```

See docs/ratelimit.md.
"""

from covet.ratelimit.backends import Backend, BackendUnavailable, Decision, MemoryBackend
from covet.ratelimit.keys import KeyFunc, api_key, client_ip, global_key, user_identity
from covet.ratelimit.limiter import Limiter, RateLimit, RateLimitExceeded, rate_limit_headers
from covet.ratelimit.middleware import RateLimitMiddleware
from covet.ratelimit.rates import Rate, parse_rate
from covet.ratelimit.redis_backend import RedisBackend

__all__ = [
    "Backend",
    "BackendUnavailable",
    "Decision",
    "KeyFunc",
    "Limiter",
    "MemoryBackend",
    "Rate",
    "RateLimit",
    "RateLimitExceeded",
    "RateLimitMiddleware",
    "RedisBackend",
    "api_key",
    "client_ip",
    "global_key",
    "parse_rate",
    "rate_limit_headers",
    "user_identity",
]
