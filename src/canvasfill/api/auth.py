"""Who is calling: API keys checked against their stored hashes, then rate limited.

``authorize`` is door-neutral (a door passes the token from its own header); the native
API reads ``Authorization: Bearer <key>``. Kling's clients send a JWT signed with a
secret key paired to an access key instead: ``authorize_kling_jwt`` checks it, and
``kling_secret_key`` derives that pair's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import jwt
from fastapi import Depends, Request

from canvasfill.api.errors import ApiError
from canvasfill.api.ratelimit import Limiter, retry_after_header
from canvasfill.api.service import Service, get_service
from canvasfill.errors import ErrorCode
from canvasfill.jobs.tables import ApiKey

# Kling's own auth codes, kept on the refusal as its ``vendor_code``
KLING_AUTH_FAILED, KLING_AUTH_EMPTY, KLING_AUTH_INVALID = 1000, 1001, 1002
KLING_TOKEN_NOT_YET_VALID, KLING_TOKEN_EXPIRED = 1003, 1004
KLING_MAX_TOKEN_LIFETIME_S = 24 * 3600
"""A token may live at most this long past its ``nbf`` (else ``iat``, else now): Kling's
own examples sign tokens for 30 minutes, and one that never expires is a stolen key."""


def authorize(
    service: Service,
    token: str | None,
    *,
    limiter: Limiter | None = None,
    header_hint: str = "Authorization: Bearer <key>",
) -> ApiKey:
    """The key for ``token``; 401 when missing, unknown or revoked, 429 when too fast.

    Doors pass their own header's name for the message and, where the hosted API has
    its own rate (PicWish: 2 per second), their own ``limiter``.
    """
    if not token:
        raise ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            f"an API key is required: send it as '{header_hint}'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = service.runtime.keys.authenticate(token)
    if key is None:
        raise ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            "the API key is not valid (unknown or revoked); create one with "
            "'canvasfill keys create'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    throttle(service, key, limiter)
    return key


def throttle(service: Service, key: ApiKey, limiter: Limiter | None = None) -> None:
    """429 with Retry-After when ``key`` is over its rate (the service's, or ``limiter``'s)."""
    limiter = limiter or service.limiter
    wait = limiter.acquire(key.id)
    if wait is not None:
        raise ApiError(
            429,
            ErrorCode.RATE_LIMITED,
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


def _check_lifetime(claims: dict[str, Any]) -> None:
    """Refuse a token whose ``exp`` lies more than 24 h past its start (1002)."""
    start = claims.get("nbf", claims.get("iat"))
    if not isinstance(start, int | float):
        start = time.time()
    if claims["exp"] - start > KLING_MAX_TOKEN_LIFETIME_S:
        raise _kling_refusal(
            KLING_AUTH_INVALID,
            "the token lives too long: exp may be at most 24 h past nbf (or iat); "
            "sign short-lived tokens (30 minutes, as Kling's examples do)",
        )


# --- Kling: JWTs signed with a derived secret key ------------------------------------------


def kling_secret_key(signing_secret: bytes, access_key: str) -> str:
    """The secret key paired with ``access_key``, derived rather than stored.

    JWTs are HMAC-signed, so the server needs the secret itself, not a hash; deriving it
    from the server's signing secret keeps the database free of usable secrets. Rotating
    the signing secret therefore re-keys every Kling pair.
    """
    return hmac.new(
        signing_secret, b"kling-secret-key:" + access_key.encode(), hashlib.sha256
    ).hexdigest()


def _kling_refusal(vendor_code: int, message: str) -> ApiError:
    return ApiError(401, ErrorCode.UNAUTHORIZED, message, vendor_code=vendor_code)


def authorize_kling_jwt(service: Service, authorization: str | None) -> ApiKey:
    """Check ``Authorization: Bearer <JWT>`` (HS256, iss = access key, exp and nbf)."""
    header = (authorization or "").strip()
    if not header:
        raise _kling_refusal(
            KLING_AUTH_EMPTY, "Authorization is empty: send 'Authorization: Bearer <JWT>'"
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _kling_refusal(KLING_AUTH_INVALID, "Authorization must be 'Bearer <JWT>'")
    token = token.strip()
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise _kling_refusal(
            KLING_AUTH_INVALID, "the Authorization token is not a valid JWT"
        ) from None
    access_key = claims.get("iss")
    key = service.runtime.keys.get(access_key) if isinstance(access_key, str) else None
    if key is None or key.revoked_at is not None:
        raise _kling_refusal(
            KLING_AUTH_FAILED, "authentication failed: unknown or revoked access key (iss)"
        )
    secret = kling_secret_key(service.runtime.settings.secret(), key.id)
    try:
        verified = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "iss"]}
        )
    except jwt.ImmatureSignatureError:
        raise _kling_refusal(
            KLING_TOKEN_NOT_YET_VALID, "the token is not yet valid (nbf)"
        ) from None
    except jwt.ExpiredSignatureError:
        raise _kling_refusal(KLING_TOKEN_EXPIRED, "the token has expired (exp)") from None
    except jwt.InvalidTokenError as exc:
        raise _kling_refusal(KLING_AUTH_INVALID, f"the token is invalid: {exc}") from None
    _check_lifetime(verified)
    throttle(service, key)
    return key
