import logging
import math
import secrets

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey

logger = logging.getLogger(__name__)

# DRF's sliding log (drop the entries older than the window; refuse when the rest reach the limit, else log
# this request), run by Redis in one round trip; it answers {allowed, requests in the window, the oldest's
# time}. DRF's own keeps the log as one pickled list that every request reads, rewrites and writes back: two
# round trips, a list as long as the limit, and lost entries when two requests of one key overlap.
_SLIDING_LOG = Script(
    None,
    b"""
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  return {0, count, redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return {1, count + 1, redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]}
""",
)
# The answer's headers (IETF draft "RateLimit header fields"): the key's limit, what is left of it in the
# window, and the seconds until the oldest request counted leaves the window (one more is then allowed).
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key request rate, counted in Redis through the cache (whose keys carry the firm).
    A key's own ``rate`` overrides the default. If Redis is down the API keeps serving, unthrottled.

    ``ApiKeyAuthentication`` counts each request of a key as soon as the key is known (``allow_key``), before
    any permission is checked: a key hammering an endpoint its scopes refuse is limited like any other."""

    scope = "api_key"
    api_key: ApiKey | None = None

    def allow_key(self, request, api_key: ApiKey) -> bool:
        self.api_key = api_key
        if api_key.rate:
            self.rate = api_key.rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            store = caches["default"]
            if isinstance(store, RedisCache):
                return self._allow_in_redis(store, request, None)
            allowed = super().allow_request(request, None)
            if self.history:  # DRF's log, newest first, this request in it when allowed
                until = max(self.duration - (self.now - self.history[-1]), 0.0)
                remaining = max(self.num_requests - len(self.history), 0)
                request._request.rate_limit = (self.num_requests, remaining, math.ceil(until))
            return allowed
        except RedisError:
            logger.warning("Throttle store unavailable; request let through")
            return True

    def _allow_in_redis(self, store: RedisCache, request, view) -> bool:
        self.counted_in_redis = True
        key = store.make_key(self.get_cache_key(request, view))
        self.now = self.timer()
        allowed, count, oldest = _SLIDING_LOG(
            keys=[key],
            # The member only has to be unique: two requests in the same microsecond are two requests.
            args=[repr(self.now), self.duration, self.num_requests, f"{self.now!r}:{secrets.token_hex(4)}"],
            client=store._cache.get_client(key, write=True),
        )
        self.oldest = float(oldest)
        until = max(self.duration - (self.now - self.oldest), 0.0)
        request._request.rate_limit = (self.num_requests, max(self.num_requests - int(count), 0), math.ceil(until))
        if allowed:
            self.oldest = None
            return True
        return False

    def wait(self):
        if not getattr(self, "counted_in_redis", False):
            return super().wait()
        if self.oldest is None:
            return None
        # Until the oldest request in the window leaves it.
        return max(self.duration - (self.now - self.oldest), 0.0)

    def get_cache_key(self, request, view):
        return f"throttle:api-key:{self.api_key.pk}"


class RateLimitHeadersMiddleware:
    """Every answer to a request a key's rate was counted for carries ``HEADERS``, a 429 included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        counted = getattr(request, "rate_limit", None)
        if counted is not None:
            for name, value in zip(HEADERS, counted, strict=True):
                response.headers[name] = str(value)
        return response
