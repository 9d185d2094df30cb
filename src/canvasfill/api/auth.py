"""Who is calling: API keys checked against their stored hashes, then rate limited.

A door declares an :class:`AuthScheme` (which header carries what, and the OpenAPI
security scheme that documents it); the handler calls its ``authorize`` off the event
loop. ``authorize`` is door-neutral (a scheme passes the token from its own header).
Kling's clients send a JWT signed with a secret key paired to an access key instead:
``authorize_kling_jwt`` checks it, and ``kling_secret_key`` derives that pair's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from fastapi import Request

from canvasfill.api.errors import ApiError
from canvasfill.api.ratelimit import Limiter, retry_after_header
from canvasfill.api.service import Service
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
            ErrorCode.UNAUTHORIZED,
            f"an API key is required: send it as '{header_hint}'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = service.runtime.keys.authenticate(token)
    if key is None:
        raise ApiError(
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
            ErrorCode.RATE_LIMITED,
            f"this key is limited to {limiter.rate:g} requests per second; "
            "retry after the time in the Retry-After header",
            headers={"Retry-After": retry_after_header(wait)},
        )


def bearer_token(header: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``, else None."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class AuthScheme(Protocol):
    """How a door's callers prove who they are."""

    @property
    def name(self) -> str:
        """The OpenAPI security scheme's name (``components.securitySchemes``)."""
        ...

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI security scheme that documents it (Swagger UI's Authorize)."""
        ...

    def authorize(
        self, service: Service, headers: Mapping[str, str], limiter: Limiter | None
    ) -> ApiKey:
        """The caller's key (blocking: a database read); ``ApiError`` when refused."""
        ...


@dataclass(frozen=True)
class BearerKey:
    """``Authorization: Bearer <key>`` (the native API)."""

    name: str = "canvasfillKey"

    def openapi(self) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": "a canvasfill API key"}

    def authorize(
        self, service: Service, headers: Mapping[str, str], limiter: Limiter | None
    ) -> ApiKey:
        return authorize(service, bearer_token(headers.get("authorization")), limiter=limiter)


@dataclass(frozen=True)
class HeaderKey:
    """The key in a header of the door's own (``ailabapi-api-key``, ``X-API-KEY``);
    ``also`` names headers tried after it, and ``bearer_ok`` strips a ``Bearer`` prefix."""

    name: str
    header: str
    also: tuple[str, ...] = ()
    bearer_ok: bool = False

    def openapi(self) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": self.header}

    def authorize(
        self, service: Service, headers: Mapping[str, str], limiter: Limiter | None
    ) -> ApiKey:
        token = None
        for header in (self.header, *self.also):
            token = headers.get(header.lower())
            if token:
                break
        if token and self.bearer_ok:
            token = bearer_token(token) or token.strip()
        return authorize(service, token, limiter=limiter, header_hint=f"{self.header}: <key>")


@dataclass(frozen=True)
class KlingJwt:
    """``Authorization: Bearer <JWT>`` signed with the key pair's secret (Kling)."""

    name: str = "klingJwt"

    def openapi(self) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "HS256 JWT: iss = access key, signed with its secret key",
        }

    def authorize(
        self, service: Service, headers: Mapping[str, str], limiter: Limiter | None
    ) -> ApiKey:
        return authorize_kling_jwt(service, headers.get("authorization"), limiter=limiter)


def _check_lifetime(claims: dict[str, Any]) -> None:
    """Refuse a token whose ``exp`` lies more than 24 h past its start (1002)."""
    start = _seconds_claim(claims.get("nbf", claims.get("iat")))
    expires = _seconds_claim(claims.get("exp"))
    if expires is None:
        raise _kling_refusal(
            KLING_AUTH_INVALID, "the token's exp must be a number of seconds since 1970"
        )
    if start is None:
        start = time.time()
    if expires - start > KLING_MAX_TOKEN_LIFETIME_S:
        raise _kling_refusal(
            KLING_AUTH_INVALID,
            "the token lives too long: exp may be at most 24 h past nbf (or iat); "
            "sign short-lived tokens (30 minutes, as Kling's examples do)",
        )


def _seconds_claim(value: Any) -> float | None:
    """A NumericDate claim as seconds, or None when it is not a plain finite number
    (JSON allows 10**400 and strings, which would otherwise reach arithmetic)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


def _printable(text: str) -> bool:
    """No control characters (NUL included), which no access key holds."""
    return text.isprintable()


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
    return ApiError(ErrorCode.UNAUTHORIZED, message, vendor_code=vendor_code)


def authorize_kling_jwt(
    service: Service, authorization: str | None, *, limiter: Limiter | None = None
) -> ApiKey:
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
    key = None
    if isinstance(access_key, str) and 0 < len(access_key) <= 64 and _printable(access_key):
        key = service.runtime.keys.get(access_key)
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
    throttle(service, key, limiter)
    return key


def require_key(request: Request) -> ApiKey:
    """FastAPI dependency of the native routes that are not door operations (SSE,
    engines): ``Authorization: Bearer <key>``. FastAPI runs it in the thread pool."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    service: Service = request.app.state.service
    return BearerKey().authorize(service, headers, None)
