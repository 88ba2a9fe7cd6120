"""The face-detect client: one httpx client for every mode, and typed results.

Users import it; the suite uses it offline (respx in front of the fake), against the stub server
and live. The key comes from ``DASHSCOPE_API_KEY`` only and lives in a ``Secret`` that is added
to the request by an ``httpx.Auth`` flow, so no frame, repr or message of this module holds it.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from .contracts import Contracts, load_contracts
from .interaction import ENDPOINT_PATH, Interaction, RecordedRequest, RecordedResponse
from .redaction import REDACTED, Secret, redact_headers

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "RETRYABLE_STATUSES",
    "AccessDenied",
    "Auth",
    "AuthenticationFailed",
    "CheckFailed",
    "CheckPassed",
    "EndpointUnreachable",
    "FaceDetectClient",
    "FaceDetectError",
    "InvalidRequest",
    "ModelNotFound",
    "RequestError",
    "ServerError",
    "Throttled",
    "UnexpectedResponse",
    "endpoint_url",
]

BASE_URL_ENV = "DASHSCOPE_HTTP_BASE_URL"
DEFAULT_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
RETRYABLE_STATUSES = frozenset({429, 500, 503})
INVALID_KEY = "sk-invalid-0000000000000000"  # a key the endpoint cannot know, for 401 probes

Auth = Literal["key", "none", "invalid"]
"""How a request authenticates: the configured key, no Authorization, or an unknown key."""


def endpoint_url(base_url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``base_url`` (else ``DASHSCOPE_HTTP_BASE_URL``, else the default) plus the endpoint path."""
    # Precedence: the explicit argument (--base-url), then the environment, then the default.
    base = (
        base_url
        or (os.environ if environ is None else environ).get(BASE_URL_ENV)
        or DEFAULT_BASE_URL
    )
    try:
        parsed = httpx.URL(base)
    except httpx.InvalidURL:
        parsed = httpx.URL("invalid:")
    shown = repr(str(parsed.copy_with(userinfo=b""))) if parsed.userinfo else repr(base)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"base URL {shown} (from --base-url or {BASE_URL_ENV}) is not an http(s) URL; "
            f"give the API root, such as {DEFAULT_BASE_URL}"
        )
    if parsed.userinfo:
        raise ValueError(
            f"base URL {shown} carries credentials (user:password@); remove them: the key "
            f"goes in DASHSCOPE_API_KEY only"
        )
    if parsed.query or parsed.fragment:
        raise ValueError(f"base URL {shown} must not carry a query or fragment; give the API root")
    return base.rstrip("/") + ENDPOINT_PATH


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckPassed:
    """The portrait passed: boxes for the EMO video model."""

    face_bbox: tuple[int, int, int, int]
    ext_bbox: tuple[int, int, int, int]
    request_id: str
    image_count: int
    humanoid: bool | None
    interaction: Interaction


@dataclass(frozen=True)
class CheckFailed:
    """The portrait failed. Shape A: HTTP 200 (billed); shape B: HTTP 400 ``InvalidFile.*``."""

    code: str
    message: str
    shape: Literal["A", "B"]
    billed: bool
    request_id: str
    interaction: Interaction


class FaceDetectError(Exception):
    """Base of everything the client raises."""


class EndpointUnreachable(FaceDetectError):
    """Timeout, refused connection or other transport failure: an error of the run, not drift."""


class UnexpectedResponse(FaceDetectError):
    """A response no documented reading explains (not JSON, unknown status, malformed boxes)."""

    def __init__(self, reason: str, interaction: Interaction) -> None:
        super().__init__(f"HTTP {interaction.response.status}: {reason}")
        self.reason = reason
        self.interaction = interaction


class RequestError(FaceDetectError):
    """A documented request failure: HTTP 4xx/5xx with ``code``, ``message``, ``request_id``."""

    def __init__(
        self,
        *,
        status: int,
        code: str | None,
        message: str,
        request_id: str | None,
        retryable: bool,
        retry_after: float | None,
        interaction: Interaction,
    ) -> None:
        super().__init__(
            f"HTTP {status} {code or '(no code)'}: {message} (request_id {request_id})"
        )
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.interaction = interaction


class InvalidRequest(RequestError):
    """HTTP 400: a parameter, the URL or the image was rejected."""


class AuthenticationFailed(RequestError):
    """HTTP 401 ``InvalidApiKey``: no key or an unknown key."""


class AccessDenied(RequestError):
    """HTTP 403: account, model or workspace access, or the async header."""


class ModelNotFound(RequestError):
    """HTTP 404 ``ModelNotFound``."""


class Throttled(RequestError):
    """HTTP 429: rate or quota exceeded; ``retry_after`` holds the server's hint in seconds."""


class ServerError(RequestError):
    """HTTP 5xx: server side, retryable."""


_ERROR_CLASSES: Mapping[int, type[RequestError]] = {
    400: InvalidRequest,
    401: AuthenticationFailed,
    403: AccessDenied,
    404: ModelNotFound,
    429: Throttled,
}


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _BearerAuth(httpx.Auth):
    def __init__(self, secret: Secret) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]  # httpx's generator protocol
        request.headers["Authorization"] = "Bearer " + self._secret.reveal()
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(<redacted>)"


# --- the client ------------------------------------------------------------------------------


class FaceDetectClient:
    """Calls ``POST {base}/services/aigc/image2video/face-detect`` and types the answer.

    Retries 429/500/503 up to ``max_retries`` times, waiting ``Retry-After`` (capped at
    ``max_retry_wait``) or an exponential backoff. ``before_attempt`` runs before every attempt,
    retries included (live mode paces there); ``on_exchange`` sees every attempt, already
    redacted (live mode records and bills from it). ``environ`` (default ``os.environ``) is where
    ``DASHSCOPE_API_KEY`` and ``DASHSCOPE_HTTP_BASE_URL`` are read; the key is read nowhere else.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_retry_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_exchange: Callable[[Interaction], None] | None = None,
        before_attempt: Callable[[], None] | None = None,
        contracts: Contracts | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if max_retries < 0 or timeout <= 0:
            raise ValueError("max_retries must be >= 0 and timeout > 0")
        self.url = endpoint_url(base_url, environ)
        self._secret = Secret.from_env(environ)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._on_exchange = on_exchange
        self._before_attempt = before_attempt
        self._contracts = contracts or load_contracts()
        self._counter = itertools.count(1)
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def __repr__(self) -> str:
        return f"FaceDetectClient(url={self.url!r}, key={'set' if self._secret else 'unset'})"

    @property
    def has_key(self) -> bool:
        """Whether ``DASHSCOPE_API_KEY`` was set when the client was made."""
        return self._secret is not None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FaceDetectClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sending --------------------------------------------------------------------------------

    def exchange(
        self,
        body: Any = None,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Auth = "key",
        method: str = "POST",
        name: str | None = None,
        retry: bool = True,
    ) -> Interaction:
        """Send one request (JSON ``body`` or raw ``content``), retrying as documented.

        ``auth`` is ``"key"`` (the configured key), ``"none"`` (no Authorization) or ``"invalid"``
        (a well-formed key the endpoint cannot know). ``headers`` replace the default
        ``Content-Type: application/json`` when given, so a probe can leave it out.
        """
        if auth == "key" and self._secret is None:
            raise FaceDetectError(
                "DASHSCOPE_API_KEY is not set; export it (the suite reads the key from there only)"
            )
        if content is None:
            content = json.dumps(body, ensure_ascii=False).encode()
        sent_headers = {"Content-Type": "application/json"} if headers is None else dict(headers)
        http_auth: httpx.Auth | None = None
        if auth == "key" and self._secret is not None:
            http_auth = _BearerAuth(self._secret)
        elif auth == "invalid":
            sent_headers["Authorization"] = "Bearer " + INVALID_KEY
        name = name or f"exchange-{next(self._counter)}"
        attempt = 0
        while True:
            interaction = self._send_once(
                method=method,
                headers=sent_headers,
                content=content,
                http_auth=http_auth,
                auth=auth,
                name=name,
                attempt=attempt,
            )
            status = interaction.response.status
            if not retry or status not in RETRYABLE_STATUSES or attempt >= self.max_retries:
                return interaction
            hint = _retry_after(interaction.response.headers)
            wait = (
                hint
                if hint is not None
                else self.backoff * (2**attempt) * (1 + random.random() / 4)
            )
            self._sleep(min(wait, self.max_retry_wait))
            attempt += 1

    def _send_once(
        self,
        *,
        method: str,
        headers: Mapping[str, str],
        content: bytes,
        http_auth: httpx.Auth | None,
        auth: Auth,
        name: str,
        attempt: int,
    ) -> Interaction:
        if self._before_attempt is not None:
            self._before_attempt()
        try:
            response = self._http.request(
                method, self.url, content=content, headers=headers, auth=http_auth
            )
        except httpx.TransportError as exc:
            raise EndpointUnreachable(
                f"endpoint unreachable: {type(exc).__name__} on {method} {self.url}"
            ) from None
        recorded_headers = redact_headers(response.request.headers, [self._secret, INVALID_KEY])
        recorded_headers.pop("content-length", None)
        if auth == "invalid":
            recorded_headers["authorization"] = "Bearer <invalid>"
        try:
            body: Any = json.loads(content)
            body_text = None
        except ValueError:
            body, body_text = None, content.decode("utf-8", errors="replace")
        interaction = Interaction(
            name=name if attempt == 0 else f"{name}-retry-{attempt}",
            request=RecordedRequest(method, recorded_headers, body, body_text),
            response=RecordedResponse.from_bytes(
                response.status_code,
                redact_headers(response.headers, [self._secret]),
                self._redacted(response.content),
            ),
            provenance={"kind": "recorded", "host": response.request.url.host},
        )
        if self._on_exchange is not None:
            self._on_exchange(interaction)
        return interaction

    def _redacted(self, content: bytes) -> bytes:
        """Response bytes with the key replaced, in case a server or gateway echoes it."""
        # Keys shorter than 8 characters would mangle ordinary JSON ("k" in "check_pass").
        if self._secret is not None and len(self._secret.reveal()) >= 8:
            content = content.replace(self._secret.reveal().encode(), REDACTED.encode())
        return content

    # -- typed results ------------------------------------------------------------------------

    def detect(
        self,
        image_url: str,
        ratio: str | None = "1:1",
        *,
        model: str = "emo-detect-v1",
        name: str | None = None,
    ) -> CheckPassed | CheckFailed:
        """Check a portrait. Returns the passed or failed check; raises ``RequestError`` otherwise.

        ``ratio=None`` leaves ``parameters`` out (the documented default applies).
        """
        body: dict[str, Any] = {"model": model, "input": {"image_url": image_url}}
        if ratio is not None:
            body["parameters"] = {"ratio": ratio}
        return self.result(self.exchange(body, name=name))

    def result(self, interaction: Interaction) -> CheckPassed | CheckFailed:
        """The typed result of a response, or the typed error it stands for."""
        response = interaction.response
        body = response.body if response.body_is_json else None
        status = response.status
        if status >= 400:
            code = body.get("code") if isinstance(body, dict) else None
            message = body.get("message") if isinstance(body, dict) else None
            request_id = body.get("request_id") if isinstance(body, dict) else None
            code = code if isinstance(code, str) else None
            if status == 400 and code in self._contracts.portrait_codes:
                return CheckFailed(
                    code=str(code),
                    message=message if isinstance(message, str) else "",
                    shape="B",
                    billed="usage" in (body or {}),
                    request_id=request_id if isinstance(request_id, str) else "",
                    interaction=interaction,
                )
            error_class = _ERROR_CLASSES.get(status, ServerError if status >= 500 else RequestError)
            raise error_class(
                status=status,
                code=code,
                message=message if isinstance(message, str) else str(response.body)[:200],
                request_id=request_id if isinstance(request_id, str) else None,
                retryable=status in RETRYABLE_STATUSES,
                retry_after=_retry_after(response.headers),
                interaction=interaction,
            )
        if status != 200:
            raise UnexpectedResponse(f"undocumented status {status}", interaction)
        if not isinstance(body, dict) or not isinstance(body.get("output"), dict):
            raise UnexpectedResponse("a 200 response without an 'output' object", interaction)
        output = body["output"]
        usage = body.get("usage")
        image_count = usage.get("image_count") if isinstance(usage, dict) else None
        request_id = body.get("request_id")
        request_id = request_id if isinstance(request_id, str) else ""
        check_pass = output.get("check_pass")
        if check_pass is True:
            face, ext = output.get("face_bbox"), output.get("ext_bbox")
            if not (_is_int_box(face) and _is_int_box(ext)):
                raise UnexpectedResponse("check_pass true without two integer boxes", interaction)
            humanoid = output.get("humanoid")
            return CheckPassed(
                face_bbox=tuple(face),
                ext_bbox=tuple(ext),
                request_id=request_id,
                image_count=image_count if isinstance(image_count, int) else 0,
                humanoid=humanoid if isinstance(humanoid, bool) else None,
                interaction=interaction,
            )
        if check_pass is False:
            code, message = output.get("code"), output.get("message")
            return CheckFailed(
                code=code if isinstance(code, str) else "",
                message=message if isinstance(message, str) else "",
                shape="A",
                billed=isinstance(usage, dict),
                request_id=request_id,
                interaction=interaction,
            )
        raise UnexpectedResponse("output.check_pass is not a boolean", interaction)


def _is_int_box(value: object) -> bool:
    return isinstance(value, list) and len(value) == 4 and all(type(v) is int for v in value)
