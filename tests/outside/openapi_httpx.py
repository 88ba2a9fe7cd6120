"""httpx traffic as openapi-core 0.23 requests and responses.

openapi-core ships adapters for requests, aiohttp, Django, Falcon, FastAPI, Flask, Starlette and
Werkzeug, none for httpx; it needs only the ``Request`` and ``Response`` protocols of
``openapi_core.protocols``. ``HttpxOpenAPIRequest`` wraps the request httpx actually sent
(``response.request``): its URL, headers and body bytes, nothing rebuilt.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["HttpxOpenAPIRequest", "HttpxOpenAPIResponse"]


class HttpxOpenAPIRequest:
    """``openapi_core.protocols.Request`` over an ``httpx.Request``."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        self._url = urlsplit(str(request.url))
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(self._url.query)),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return f"{self._url.scheme}://{self._url.netloc}"

    @property
    def path(self) -> str:
        return self._url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content or None  # an empty body is no body

    @property
    def content_type(self) -> str:
        return str(self.request.headers.get("content-type", ""))


class HttpxOpenAPIResponse:
    """``openapi_core.protocols.Response`` over an ``httpx.Response``."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", ""))

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.multi_items()))

    @property
    def data(self) -> bytes:
        return self.response.content
