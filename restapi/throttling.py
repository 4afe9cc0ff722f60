"""Rate limits per token and per user, counted in the Django cache (Redis in production and tests).

Each request falls in a scope: `read` (safe methods), `write` (other methods), or a view's own scope for
what needs a tighter limit (`submissions`, `posts`). Within a scope, a request counts against the token
it came with (one runaway script cannot spend its owner's whole quota) and against the user (all their
tokens and their browser together); without credentials, against the client address. Windows are fixed
(INCR on a key per window, atomic in Redis), so the reset time is exact and cheap to tell.

Every answer carries the tightest bucket's state (RateLimit-Limit/-Remaining/-Reset and the X-RateLimit-*
forms clients know from GitHub); a refused request is a 429 with Retry-After.
"""

from __future__ import annotations

import dataclasses
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .permissions import needed_scope

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/min' → (10, 60)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().lower()]


@dataclasses.dataclass(frozen=True)
class Bucket:
    scope: str
    kind: str  # token | user | anon
    ident: str
    limit: int
    period: int


@dataclasses.dataclass
class BucketState:
    bucket: Bucket
    count: int
    reset_at: float  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(0, self.bucket.limit - self.count)

    @property
    def allowed(self) -> bool:
        return self.count <= self.bucket.limit


def _client_address(request) -> str:
    # Behind nginx, REMOTE_ADDR is nginx; the same trusted-proxy count as allauth's rate limits decides.
    proxies = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def _token_ident(auth) -> str | None:
    if auth is None:
        return None
    return f"{type(auth).__name__}:{auth.pk}"


def buckets_for(request, scope: str) -> list[Bucket]:
    rates = settings.API_THROTTLE_RATES
    user = getattr(request, "user", None)
    token = _token_ident(getattr(request, "auth", None))
    buckets = []
    if token is not None:
        limit, period = parse_rate(rates[scope]["token"])
        buckets.append(Bucket(scope, "token", token, limit, period))
    if user is not None and user.is_authenticated:
        limit, period = parse_rate(rates[scope]["user"])
        buckets.append(Bucket(scope, "user", str(user.pk), limit, period))
    if not buckets:
        limit, period = parse_rate(rates["anon"])
        buckets.append(Bucket(scope, "anon", _client_address(request), limit, period))
    return buckets


def _hit(bucket: Bucket, now: float) -> BucketState:
    window = int(now // bucket.period)
    key = f"api-rl:{bucket.scope}:{bucket.kind}:{bucket.ident}:{bucket.period}:{window}"
    cache.add(key, 0, timeout=bucket.period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: a new window began
        cache.add(key, 1, timeout=bucket.period + 1)
        count = 1
    return BucketState(bucket=bucket, count=count, reset_at=(window + 1) * bucket.period)


def rate_limit_headers(state: BucketState, now: float) -> dict[str, str]:
    reset = max(1, math.ceil(state.reset_at - now))
    return {
        "RateLimit-Limit": str(state.bucket.limit),
        "RateLimit-Remaining": str(state.remaining),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{state.bucket.limit};w={state.bucket.period}",
        "X-RateLimit-Limit": str(state.bucket.limit),
        "X-RateLimit-Remaining": str(state.remaining),
        "X-RateLimit-Reset": str(math.ceil(state.reset_at)),
        "X-RateLimit-Scope": f"{state.bucket.scope}:{state.bucket.kind}",
    }


STATE_ATTR = "_api_rate_limit"


class ScopedRateThrottle(BaseThrottle):
    """The view names its write scope in `throttle_scope` ('submissions', 'posts'); reads are 'read'."""

    def allow_request(self, request, view) -> bool:
        scope = needed_scope(request)
        if scope == "write":
            scope = getattr(view, "throttle_scope", None) or "write"
        now = time.time()
        states = [_hit(bucket, now) for bucket in buckets_for(request, scope)]
        refused = [s for s in states if not s.allowed]
        # The state the headers tell: a refusing bucket (the one that frees last), else the one nearest its limit.
        if refused:
            shown = max(refused, key=lambda s: s.reset_at)
        else:
            shown = min(states, key=lambda s: (s.remaining, -s.reset_at))
        setattr(request._request, STATE_ATTR, (shown, now))
        self._wait = max(1, math.ceil(shown.reset_at - now)) if refused else None
        return not refused

    def wait(self):
        return self._wait


def response_headers(request) -> dict[str, str]:
    stored = getattr(getattr(request, "_request", request), STATE_ATTR, None)
    if stored is None:
        return {}
    state, now = stored
    return rate_limit_headers(state, now)
