import logging

from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey

logger = logging.getLogger(__name__)


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
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("Throttle store unavailable; request let through")
            return True

    def get_cache_key(self, request, view):
        return f"throttle:api-key:{request.auth.pk}"
