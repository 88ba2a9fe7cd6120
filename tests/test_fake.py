"""The fake answers each documented rule with the documented status, code and message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from facedetect_contract.checks import run_checks
from facedetect_contract.contracts import load_contracts
from facedetect_contract.fake import (
    FaceDetectFake,
    FakeRequest,
    FakeResponse,
    Image,
    ImageUnavailable,
)
from facedetect_contract.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.mutations import URL_VARIANTS

KEY = "sk-fake-test-key"
SENTINEL = "gwkey-SENTINEL-0123456789abcdef"  # no "sk-": the key-like redaction would miss it
DOCUMENTED_FACE = load_contracts().profile.example_images[0].face_box
DOC_URL = (
    "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20251225/onmomb/emo.png"
)
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}


def body(url: str = DOC_URL, ratio: str | None = "1:1", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"model": "emo-detect-v1", "input": {"image_url": url}}
    if ratio is not None:
        data["parameters"] = {"ratio": ratio}
    data.update(extra)
    return data


def call(
    fake: FaceDetectFake,
    payload: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    method: str = "POST",
) -> FakeResponse:
    content = (
        raw if raw is not None else json.dumps(body() if payload is None else payload).encode()
    )
    return fake(FakeRequest(method, HEADERS if headers is None else headers, content))


def clean(response: FakeResponse, ratio: str = "1:1") -> None:
    """The fake's own answer passes every check: it is faithful to the contracts."""
    interaction = Interaction(
        "fake",
        RecordedRequest("POST", {}, body(ratio=ratio)),
        RecordedResponse(response.status, dict(response.headers), response.json()),
    )
    assert run_checks(interaction) == []


@pytest.fixture
def fake() -> FaceDetectFake:
    return FaceDetectFake(api_keys={KEY})


@pytest.mark.parametrize("ratio", ["1:1", "3:4"])
def test_the_documented_request_passes_with_boxes_of_the_requested_ratio(
    fake: FaceDetectFake, ratio: str
) -> None:
    response = call(fake, body(ratio=ratio))
    assert response.status == 200
    output = response.json()["output"]
    assert output["face_bbox"] == list(DOCUMENTED_FACE)
    clean(response, ratio)
    assert fake.billed == 1


def test_a_missing_ratio_takes_the_documented_default(fake: FaceDetectFake) -> None:
    assert call(fake, body(ratio=None)).json()["output"]["check_pass"] is True


@pytest.mark.parametrize(
    ("case", "headers", "payload", "raw", "method", "status", "code"),
    [
        ("no key", {"Content-Type": "application/json"}, None, None, "POST", 401, "InvalidApiKey"),
        (
            "bad key",
            {**HEADERS, "Authorization": "Bearer sk-unknown"},
            None,
            None,
            "POST",
            401,
            "InvalidApiKey",
        ),
        (
            "not bearer",
            {**HEADERS, "Authorization": f"Basic {KEY}"},
            None,
            None,
            "POST",
            401,
            "InvalidApiKey",
        ),
        (
            "async header",
            {**HEADERS, "X-DashScope-Async": "enable"},
            None,
            None,
            "POST",
            403,
            "AccessDenied",
        ),
        (
            "form content type",
            {**HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
            None,
            None,
            "POST",
            400,
            "BadRequest.IllegalInput",
        ),
        ("malformed JSON", HEADERS, None, b'{"model": ', "POST", 400, "InvalidParameter"),
        ("JSON array", HEADERS, [], None, "POST", 400, "InvalidParameter"),
        ("GET", HEADERS, None, None, "GET", 400, "InvalidParameter"),
        (
            "no model",
            HEADERS,
            {"input": {"image_url": DOC_URL}},
            None,
            "POST",
            400,
            "BadRequest.EmptyModel",
        ),
        ("unknown model", HEADERS, body(model="emo-v2"), None, "POST", 404, "ModelNotFound"),
        ("model not a string", HEADERS, body(model=7), None, "POST", 400, "InvalidParameter"),
        (
            "no input",
            HEADERS,
            {"model": "emo-detect-v1"},
            None,
            "POST",
            400,
            "BadRequest.EmptyInput",
        ),
        (
            "input not an object",
            HEADERS,
            {"model": "emo-detect-v1", "input": "x"},
            None,
            "POST",
            400,
            "InvalidParameter",
        ),
        (
            "no image_url",
            HEADERS,
            {"model": "emo-detect-v1", "input": {}},
            None,
            "POST",
            400,
            "InvalidParameter",
        ),
        ("bad ratio", HEADERS, body(ratio="16:9"), None, "POST", 400, "InvalidParameter"),
        (
            "parameters not an object",
            HEADERS,
            body(parameters=[]),
            None,
            "POST",
            400,
            "InvalidParameter",
        ),
        ("file URL", HEADERS, body("file:///tmp/p.png"), None, "POST", 400, "InvalidURL"),
        ("oss URL", HEADERS, body("oss://bucket/p.png"), None, "POST", 400, "InvalidURL"),
        ("ftp URL", HEADERS, body("ftp://example.com/p.png"), None, "POST", 400, "InvalidURL"),
        (
            "refused download",
            HEADERS,
            body("http://unreachable.example/p.png"),
            None,
            "POST",
            400,
            "InvalidURL.ConnectionRefused",
        ),
        (
            "port out of range",
            HEADERS,
            body("https://b.org:99999/p.png"),
            None,
            "POST",
            400,
            "InvalidURL",
        ),
    ],
    ids=lambda value: (
        value if (isinstance(value, str) and " " in value) or value in ("GET",) else None
    ),
)
def test_each_documented_request_failure_gets_its_status_and_code_and_is_not_billed(
    fake: FaceDetectFake,
    case: str,
    headers: dict[str, str],
    payload: Any,
    raw: bytes | None,
    method: str,
    status: int,
    code: str,
) -> None:
    response = call(fake, payload, headers=headers, raw=raw, method=method)
    assert (response.status, response.json()["code"]) == (status, code)
    assert "usage" not in response.json()
    assert fake.billed == 0
    clean(response)


def test_an_unknown_field_is_ignored(fake: FaceDetectFake) -> None:
    assert call(fake, body(extra="x")).status == 200


@pytest.mark.parametrize("shape", ["A", "B"])
@pytest.mark.parametrize("reason", sorted(load_contracts().portrait_codes))
def test_a_failed_portrait_check_is_answered_in_the_chosen_shape(shape: str, reason: str) -> None:
    fake = FaceDetectFake(api_keys={KEY}, failure_shape=shape)  # type: ignore[arg-type]
    name = reason.split(".")[1]
    kebab = "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")
    response = call(fake, body(f"https://example.com/{kebab}.png"))
    if shape == "A":
        assert response.status == 200
        assert response.json()["output"] == {
            "check_pass": False,
            "code": reason,
            "message": response.json()["output"]["message"],
        }
        assert fake.billed == 1
    else:
        assert (response.status, response.json()["code"]) == (400, reason)
        assert fake.billed == 0
    clean(response)


class FixedImages:
    def __init__(self, image: Image | ImageUnavailable) -> None:
        self.image = image

    def fetch(self, url: str) -> Image:
        if isinstance(self.image, ImageUnavailable):
            raise self.image
        return self.image


@pytest.mark.parametrize(
    ("image", "status", "code"),
    [
        (Image(300, 900, "png", face=(10, 10, 100, 100)), 200, "InvalidFile.Resolution"),
        (Image(800, 7001, "png", face=(10, 10, 100, 100)), 200, "InvalidFile.Resolution"),
        (Image(800, 800, "gif", face=(10, 10, 100, 100)), 400, "InvalidImage.FileFormat"),
        (Image(800, 800, "png"), 200, "InvalidFile.NoHuman"),
        (Image(800, 400, "png", face=(0, 0, 790, 400)), 200, "InvalidFile.BodyProportion"),
        (
            ImageUnavailable("url-timeout", "images.example"),
            400,
            "InvalidURL.Timeout",
        ),
    ],
    ids=[
        "short side 300",
        "long side 7001",
        "gif",
        "no face",
        "face fills a 3:4 crop",
        "download timeout",
    ],
)
def test_image_limits_are_enforced_as_documented(
    image: Image | ImageUnavailable, status: int, code: str
) -> None:
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image))
    response = call(fake, body(ratio="3:4"))
    answer = response.json()
    assert response.status == status
    assert (answer.get("output") or answer)["code"] == code
    clean(response, "3:4")


def test_the_same_generated_url_always_gets_the_same_answer(fake: FaceDetectFake) -> None:
    url = "https://cdn.example.net/people/42.jpg"
    first, second = call(fake, body(url)).json(), call(fake, body(url)).json()
    assert first.pop("request_id") != second.pop("request_id")
    assert first == second


def test_the_fake_repr_does_not_show_its_keys(fake: FaceDetectFake) -> None:
    assert KEY not in repr(fake)


def test_a_fake_request_never_shows_its_headers() -> None:
    request = FakeRequest("POST", {"Authorization": f"Bearer {SENTINEL}"}, b"{}")
    assert SENTINEL not in repr(request)


@pytest.mark.parametrize(
    "url", ["http://[::1]:8000/portrait.png", "http://127.0.0.1:8000/portrait.png"]
)
def test_an_ip_literal_host_is_a_downloadable_url(fake: FaceDetectFake, url: str) -> None:
    response = call(fake, body(url))
    assert response.json().get("code") != "InvalidURL"


@pytest.mark.parametrize(
    "url", ["https://example.com/portrait.gif", "https://example.com/scan.tiff"]
)
def test_an_unsupported_image_format_is_answered_as_such_offline_too(
    fake: FaceDetectFake, url: str
) -> None:
    response = call(fake, body(url))
    assert (response.status, response.json()["code"]) == (400, "InvalidImage.FileFormat")


@pytest.mark.parametrize(("family", "url"), URL_VARIANTS, ids=[url for _, url in URL_VARIANTS])
def test_the_fake_refuses_exactly_the_image_urls_the_contract_refuses(
    fake: FaceDetectFake, family: str, url: str
) -> None:
    """URL acceptance is the contract's pattern, not a rule of the fake's own."""
    answer = call(fake, body(url)).json()
    refused = answer.get("code") == "InvalidURL"
    assert refused is not load_contracts().accepts_image_url(url), answer


@pytest.mark.parametrize(
    "url",
    ["https://b.org*/x.png", "http://user:pw@127.0.0.1:8000/p.png", "HTTP://EXAMPLE.COM/p.png"],
)
def test_a_url_the_contract_admits_gets_a_check_result(fake: FaceDetectFake, url: str) -> None:
    response = call(fake, body(url))
    assert response.status == 200 or response.json()["code"].startswith("InvalidFile."), url
