"""The stub's images: real files provoke every documented outcome, the download is loopback only and
capped, and a large image is judged from its header."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from facedetect_contract.checks import run_checks
from facedetect_contract.client import CheckPassed
from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.core.memo import Memo
from facedetect_contract.doubles.fake import FaceDetectFake, FakeRequest, Image, ImageUnavailable
from facedetect_contract.doubles.images import (
    DownloadingImages,
    abandoned_when,
    is_loopback_host,
    place_face,
)
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY as STUB_KEY
from tests.helpers.stub import detect_body, make_client, outcome

PORTRAIT = (600, 800)


def code_of(error: ImageUnavailable) -> str:
    """The documented code of the rejection an image source raised."""
    return load_contracts().profile.rejection(error.rule).code


# --- what each file provokes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("small.png", "InvalidFile.Resolution"),
        ("dark.png", "InvalidFile.Value"),
        ("no-human.png", "InvalidFile.NoHuman"),
        ("multi-human.png", "InvalidFile.MultiHuman"),
        ("portrait.gif", "InvalidImage.FileFormat"),
        ("not-an-image.png", "InvalidImage.FileFormat"),
        ("missing.png", "InvalidURL"),
    ],
)
def test_each_fixture_image_provokes_its_documented_outcome(
    stub_server: RunningServer, name: str, expected: str
) -> None:
    with make_client(stub_server) as client:
        interaction = client.exchange(detect_body(stub_server.image_url(name)))
    assert outcome(interaction) == expected
    assert run_checks(interaction, load_contracts()) == []


@given(
    width=st.integers(400, 7000),
    height=st.integers(400, 7000),
    ratio=st.sampled_from(["1:1", "3:4"]),
)
def test_the_placed_face_passes_every_check_for_every_admitted_size(
    width: int, height: int, ratio: str
) -> None:
    """For any size the resolution rule admits, the stub's face yields a clean pass."""

    class Sized:
        def fetch(self, url: str) -> Image:
            return Image(width, height, "png", face=place_face(width, height))

    fake = FaceDetectFake(api_keys=[STUB_KEY], images=Sized())
    body = detect_body("http://127.0.0.1/x.png", ratio)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {STUB_KEY}"}
    response = fake(FakeRequest("POST", headers, json.dumps(body).encode()))
    assert response.json()["output"]["check_pass"] is True
    interaction = Interaction(
        "placed-face",
        RecordedRequest("POST", {}, body),
        RecordedResponse(response.status, dict(response.headers), response.json()),
    )
    assert run_checks(interaction, load_contracts()) == []


# --- the downloader: loopback only, capped --------------------------------------------------------


def test_an_image_host_that_is_not_loopback_is_refused_before_any_connection(
    stub_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempted: list[object] = []
    connect = socket.create_connection

    def loopback_only(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if not is_loopback_host(address[0]):
            attempted.append(address)
            raise OSError("the test forbids non-loopback traffic")
        return connect(address, *args, **kwargs)

    resolve = socket.getaddrinfo

    def resolve_loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback_host(str(host)):
            attempted.append(host)
            raise OSError("the test forbids resolving names")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", loopback_only)
    monkeypatch.setattr(socket, "getaddrinfo", resolve_loopback_only)
    with make_client(stub_server) as client:
        for url in ("http://192.0.2.1/x.png", "https://images.example/portrait.png"):
            interaction = client.exchange(detect_body(url))
            assert outcome(interaction) == "InvalidURL"
            assert run_checks(interaction, load_contracts()) == []
    assert attempted == []


def recording(handler: Any, calls: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        answer: httpx.Response = handler(request)
        return answer

    return httpx.MockTransport(handle)


def test_a_redirect_to_a_remote_host_is_refused_before_following_it() -> None:
    calls: list[str] = []
    moved = recording(
        lambda _: httpx.Response(302, headers={"Location": "http://192.0.2.1/x.png"}), calls
    )
    with DownloadingImages(transport=moved) as images, pytest.raises(ImageUnavailable) as caught:
        images.fetch("http://127.0.0.1:9/portrait.png")
    assert code_of(caught.value) == "InvalidURL"
    assert calls == ["http://127.0.0.1:9/portrait.png"]


def test_allow_remote_lets_any_host_through() -> None:
    png = (IMAGE_DIR / "portrait.png").read_bytes()
    calls: list[str] = []
    served = recording(lambda _: httpx.Response(200, content=png), calls)
    with DownloadingImages(allow_remote=True, transport=served) as images:
        image = images.fetch("https://images.example/portrait.png")
    assert image == Image(*PORTRAIT, "png", face=place_face(*PORTRAIT))
    assert calls == ["https://images.example/portrait.png"]


def _raise(error: Exception) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("handler", "max_bytes", "code"),
    [
        (_raise(httpx.ConnectError("refused")), 10**6, "InvalidURL.ConnectionRefused"),
        (_raise(httpx.ReadTimeout("slow")), 10**6, "InvalidURL.Timeout"),
        (_raise(httpx.RemoteProtocolError("garbled")), 10**6, "InvalidParameter"),
        (lambda _: httpx.Response(404, text="gone"), 10**6, "InvalidURL"),
        (lambda _: httpx.Response(200, content=b"\x89PNG" + b"0" * 200), 100, "InvalidFile.Size"),
        (
            lambda _: httpx.Response(200, content=(IMAGE_DIR / "portrait.png").read_bytes()[:200]),
            10**6,
            "InvalidFile.Openerror",
        ),
    ],
    ids=["refused", "timeout", "protocol-error", "http-404", "too-large", "truncated"],
)
def test_download_failures_get_their_documented_codes(
    handler: Any, max_bytes: int, code: str
) -> None:
    transport = httpx.MockTransport(handler)
    with (
        DownloadingImages(transport=transport, max_bytes=max_bytes) as images,
        pytest.raises(ImageUnavailable) as caught,
    ):
        images.fetch("http://127.0.0.1:9/portrait.png")
    assert code_of(caught.value) == code


def _dripping(request: httpx.Request) -> httpx.Response:
    """An image host that sends one byte every 20 ms for 3 s, far past the test's deadline
    (bounded, so a download that ignores its deadline fails the test instead of hanging it)."""

    def drip() -> Iterator[bytes]:
        for _ in range(150):
            time.sleep(0.02)
            yield b"\x89"

    return httpx.Response(200, headers={"content-type": "image/png"}, content=drip())


def test_a_download_that_trickles_past_its_deadline_is_a_documented_timeout() -> None:
    start = time.monotonic()
    with (
        DownloadingImages(transport=httpx.MockTransport(_dripping), deadline=0.3) as images,
        pytest.raises(ImageUnavailable) as caught,
    ):
        images.fetch("http://127.0.0.1:9/portrait.png")
    assert code_of(caught.value) == "InvalidURL.Timeout"
    assert time.monotonic() - start < 2


def test_a_download_stops_at_once_when_its_client_has_gone() -> None:
    start = time.monotonic()
    with (
        DownloadingImages(transport=httpx.MockTransport(_dripping)) as images,
        abandoned_when(lambda: True),
        pytest.raises(ImageUnavailable) as caught,
    ):
        images.fetch("http://127.0.0.1:9/portrait.png")
    assert caught.value.rule == "download-failed"
    assert time.monotonic() - start < 2  # the deadline (10 s) never came into it


@pytest.mark.parametrize("option", ["deadline", "timeout"])
@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan")])
def test_a_download_bound_that_is_no_number_of_seconds_is_refused(
    option: str, value: float
) -> None:
    with pytest.raises(ValueError, match=option):
        DownloadingImages(**{option: value})


def test_a_refused_image_host_reaches_the_log_escaped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="facedetect_contract.doubles.images")
    with DownloadingImages() as images, pytest.raises(ImageUnavailable):
        images.fetch("http://ev\x1b7il\x07\x9b.example/x.png")  # no bracket: a host
    logged = "\n".join(caplog.messages)
    assert "refused image host" in logged
    assert "\x1b" not in logged and "\x07" not in logged
    assert "\\x1b" in logged


def test_a_refused_loopback_connection_is_invalid_url_connection_refused(
    stub_server: RunningServer,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with make_client(stub_server) as client:
        interaction = client.exchange(detect_body(f"http://127.0.0.1:{port}/portrait.png"))
    assert outcome(interaction) == "InvalidURL.ConnectionRefused"
    assert run_checks(interaction, load_contracts()) == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("192.0.2.1", False),
        ("0.0.0.0", False),
        ("localhost.example", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_loopback_is_decided_without_resolving_names(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


# --- a large image is judged from its header ------------------------------------------------------


def test_a_large_image_is_judged_from_its_header_without_decoding_its_pixels(
    tmp_path: Any,
) -> None:
    """A 7000 x 7000 PNG (admitted by the docs) is not decoded whole: its brightness is not
    measured, and the check passes on its size alone."""
    from PIL import Image as PILImage

    from facedetect_contract.doubles.images import MAX_DECODED_PIXELS

    big = tmp_path / "big-portrait.png"
    PILImage.new("L", (7000, 7000), 128).save(big, optimize=True)
    assert MAX_DECODED_PIXELS < 7000 * 7000
    with (
        serve_in_thread(api_keys=[STUB_KEY], images_dir=tmp_path) as server,
        make_client(server) as client,
    ):
        result = client.detect(server.image_url("big-portrait.png"))
    assert isinstance(result, CheckPassed)


def test_a_pictures_brightness_is_measured_once_per_content_and_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same bytes again (a run sends its few images many times): judged as before, without
    decoding them again; other bytes, or another threshold, are measured."""
    from facedetect_contract.doubles import images as module

    monkeypatch.setattr(module, "_MEASURED", Memo(8))  # not what earlier tests measured
    measured: list[str] = []
    measure = module._is_dark

    def counted(picture: Any) -> bool:
        measured.append(picture.format)
        return measure(picture)

    monkeypatch.setattr(module, "_is_dark", counted)
    files = {name: (IMAGE_DIR / name).read_bytes() for name in ("dark.png", "portrait.png")}
    served = httpx.MockTransport(
        lambda request: httpx.Response(200, content=files[request.url.params["file"]])
    )
    too_dark = load_contracts().profile.rejection("too-dark").code
    with DownloadingImages(transport=served) as images:

        def reason(file: str, i: int = 0) -> str | None:  # URLs that name no reason
            return images.fetch(f"http://127.0.0.1:9/picture-{i}.png?file={file}").reason

        assert [reason("dark.png", i) for i in range(3)] == [too_dark] * 3
        assert len(measured) == 1
        assert reason("portrait.png") is None
        assert len(measured) == 2  # other bytes
        monkeypatch.setattr(module, "DARK_LUMINANCE", 0.0)  # nothing is darker than black
        assert reason("dark.png") is None
        assert len(measured) == 3  # another threshold
