"""Who is calling: API keys checked against their stored hashes, then rate limited.

``authorize`` is door-neutral (a dialect passes the token from its own header); the
native API reads ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

from fastapi import Depends, Request

from canvasfill.api.errors import ApiCode, ApiError
from canvasfill.api.ratelimit import RateLimiter, retry_after_header
from canvasfill.api.service import Service, get_service
from canvasfill.jobs.models import ApiKey


def authorize(
    service: Service,
    token: str | None,
    *,
    limiter: RateLimiter | None = None,
    header_hint: str = "Authorization: Bearer <key>",
) -> ApiKey:
    """The key for ``token``; 401 when missing, unknown or revoked, 429 when too fast.

    Dialects pass their own header's name for the message and, where the hosted API has
    its own rate (PicWish: 2 per second), their own ``limiter``.
    """
    if not token:
        raise ApiError(
            401,
            ApiCode.UNAUTHORIZED,
            f"an API key is required: send it as '{header_hint}'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = service.runtime.keys.authenticate(token)
    if key is None:
        raise ApiError(
            401,
            ApiCode.UNAUTHORIZED,
            "the API key is not valid (unknown or revoked); create one with "
            "'canvasfill keys create'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    throttle(service, key, limiter)
    return key


def throttle(service: Service, key: ApiKey, limiter: RateLimiter | None = None) -> None:
    """429 with Retry-After when ``key`` is over its rate (the service's, or ``limiter``'s)."""
    limiter = limiter or service.limiter
    wait = limiter.acquire(key.id)
    if wait is not None:
        raise ApiError(
            429,
            ApiCode.RATE_LIMITED,
            f"this key is limited to {limiter.rate:g} requests per second; "
            "retry after the time in the Retry-After header",
            headers={"Retry-After": retry_after_header(wait)},
        )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def require_key(request: Request, service: Service = Depends(get_service)) -> ApiKey:
    """FastAPI dependency of every native route."""
    return authorize(service, bearer_token(request))
