import logging
import secrets

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey

logger = logging.getLogger(__name__)

# DRF's sliding log (drop the entries older than the window; refuse when the rest reach the limit, else log
# this request), run by Redis in one round trip. DRF's own keeps the log as one pickled list that every
# request reads, rewrites and writes back: two round trips, a list as long as the limit, and lost entries
# when two requests of one key overlap.
_SLIDING_LOG = Script(
    None,
    b"""
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  return redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return false
""",
)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key request rate, counted in Redis through the cache (whose keys carry the firm).
    A key's own ``rate`` overrides the default. If Redis is down the API keeps serving, unthrottled."""

    scope = "api_key"

    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return True
        if request.auth.rate:
            self.rate = request.auth.rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            store = caches["default"]
            if isinstance(store, RedisCache):
                return self._allow_in_redis(store, request, view)
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("Throttle store unavailable; request let through")
            return True

    def _allow_in_redis(self, store: RedisCache, request, view) -> bool:
        self.counted_in_redis = True
        key = store.make_key(self.get_cache_key(request, view))
        self.now = self.timer()
        oldest = _SLIDING_LOG(
            keys=[key],
            # The member only has to be unique: two requests in the same microsecond are two requests.
            args=[repr(self.now), self.duration, self.num_requests, f"{self.now!r}:{secrets.token_hex(4)}"],
            client=store._cache.get_client(key, write=True),
        )
        if oldest is None:
            self.oldest = None
            return True
        self.oldest = float(oldest)
        return False

    def wait(self):
        if not getattr(self, "counted_in_redis", False):
            return super().wait()
        if self.oldest is None:
            return None
        # Until the oldest request in the window leaves it.
        return max(self.duration - (self.now - self.oldest), 0.0)

    def get_cache_key(self, request, view):
        return f"throttle:api-key:{request.auth.pk}"
