from .context import get_current_tenant


def tenant_cache_key(key: str, key_prefix: str, version: int) -> str:
    """Cache keys carry the firm ("-" outside any firm), so a cached value never crosses firms."""
    tenant = get_current_tenant()
    return f"{key_prefix}:{version}:t{tenant.pk if tenant else '-'}:{key}"
