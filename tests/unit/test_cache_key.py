"""Cache keys: canonical, tenant-scoped, versioned, optionally limited to listed input fields."""

from __future__ import annotations

from baton_agent.cache import CachedResult, CachePolicy, MemoryResultCache, cache_key

POLICY = CachePolicy(ttl_seconds=60, key_fields=None, version="1")


def test_key_ignores_key_order():
    assert cache_key("t", "a", POLICY, {"x": 1, "y": [1, 2]}) == cache_key(
        "t", "a", POLICY, {"y": [1, 2], "x": 1}
    )


def test_key_differs_by_tenant_agent_version_and_input():
    base = cache_key("t", "a", POLICY, {"x": 1})
    assert base != cache_key("other", "a", POLICY, {"x": 1})
    assert base != cache_key("t", "b", POLICY, {"x": 1})
    assert base != cache_key("t", "a", CachePolicy(60, None, "2"), {"x": 1})
    assert base != cache_key("t", "a", POLICY, {"x": 2})


def test_key_fields_limit_the_input_that_counts():
    policy = CachePolicy(60, ("url",), "1")
    assert cache_key("t", "a", policy, {"url": "u", "noise": 1}) == cache_key(
        "t", "a", policy, {"url": "u", "noise": 2}
    )
    assert cache_key("t", "a", policy, {"url": "u"}) != cache_key("t", "a", policy, {"url": "v"})


def test_policy_from_payload():
    assert CachePolicy.from_payload({"ttl": 900, "key": ["sites"], "version": "3"}) == CachePolicy(
        900, ("sites",), "3"
    )
    assert CachePolicy.from_payload({"ttl": 5, "key": None}) == CachePolicy(5, None, "1")
    assert CachePolicy.from_payload(None) is None


def test_expired_entries_are_misses():
    now = [1000.0]
    cache = MemoryResultCache(clock=lambda: now[0])
    cache.put("k", CachedResult({"v": 1}, 99, now[0]), 60, agent="a", tenant="t")
    assert cache.get("k") == CachedResult({"v": 1}, 99, 1000.0)
    now[0] += 60
    assert cache.get("k") is None
