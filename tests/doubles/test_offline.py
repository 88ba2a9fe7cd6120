"""The fake offline, two ways: through the client and respx, and exchanged with in-process.

The contract suite's properties exchange their requests with the fake in-process (their subject
is the endpoint's contract, not the client). This differential test holds that path to the
client's: for the same generated requests, valid and invalid, the same request as recorded, the
same answer and the same findings.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections import Counter
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facedetect_contract.checks import run_checks
from facedetect_contract.client import FaceDetectClient
from facedetect_contract.contracts.loader import Contracts
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.offline import (
    InProcessExchange,
    UnroutedRequest,
    endpoint_path_regex,
    mock_endpoint,
)
from facedetect_contract.generation.strategies import (
    GeneratedRequest,
    invalid_requests,
    valid_requests,
)
from facedetect_contract.plugin.harness import EXAMPLES_PER_PROPERTY

# Headers httpx adds on its own; the fake's answer does not depend on them (the test shows it).
TRANSPORT_HEADERS = {"host", "accept", "accept-encoding", "connection", "user-agent"}


def seen(interaction: Interaction) -> dict[str, Any]:
    """What an interaction says, the transport's own headers and the timing apart."""
    request, response = interaction.request, interaction.response
    return {
        "method": request.method,
        "request_headers": {k: v for k, v in request.headers.items() if k not in TRANSPORT_HEADERS},
        "request_body": (request.body, request.body_text),
        "status": response.status,
        "response_headers": {
            k: v
            for k, v in response.headers.items()
            if k not in ("content-length", "x-request-id", "date")
        },
        "response_body": _without_request_id(response.body),
        "body_is_json": response.body_is_json,
    }


def _without_request_id(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "request_id"}
    return body


@pytest.fixture(scope="module")
def both(contracts: Contracts) -> tuple[FaceDetectClient, InProcessExchange]:
    """The client over respx and the in-process exchange, each with its own fake (same key)."""
    import httpx
    import respx

    from facedetect_contract.doubles.offline import mount_fake
    from facedetect_contract.plugin import TEST_KEY

    router = respx.Router(assert_all_mocked=True)
    client = FaceDetectClient(
        base_url="http://127.0.0.1:9/api/v1",
        environ={contracts.profile.api_key_env: TEST_KEY},
        transport=httpx.MockTransport(router.handler),
        sleep=lambda _seconds: None,
        contracts=contracts,
    )
    mount_fake(router, FaceDetectFake(api_keys={TEST_KEY}, contracts=contracts), client.url)
    exchange = InProcessExchange(FaceDetectFake(api_keys={TEST_KEY}, contracts=contracts), TEST_KEY)
    return client, exchange


def test_both_paths_record_the_same_exchange_for_every_generated_request(
    both: tuple[FaceDetectClient, InProcessExchange], contracts: Contracts
) -> None:
    client, exchange = both
    kinds: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES_PER_PROPERTY, database=None, derandomize=True)
    @given(request=st.one_of(valid_requests(contracts), invalid_requests(contracts)))
    def same(request: GeneratedRequest) -> None:
        through_client = request.send(client, retry=False)
        in_process = request.send(exchange, retry=False)
        assert seen(in_process) == seen(through_client), request.description
        assert [v.to_dict() for v in run_checks(in_process, contracts)] == [
            v.to_dict() for v in run_checks(through_client, contracts)
        ]
        assert through_client.expectation == in_process.expectation
        kinds["valid" if request.mutation is None else request.auth] += 1
        kinds[str(through_client.response.status)] += 1

    same()
    assert kinds["valid"] >= EXAMPLES_PER_PROPERTY // 5, kinds  # both branches, often
    assert kinds["key"] >= EXAMPLES_PER_PROPERTY // 5, kinds
    assert kinds["none"] and kinds["invalid"], kinds  # the auth probes too
    assert kinds["200"] and kinds["400"] and kinds["401"], kinds


def test_the_in_process_exchange_never_records_the_key(contracts: Contracts) -> None:
    key = "sk-in-process-" + "7c3b" * 6
    exchange = InProcessExchange(FaceDetectFake(api_keys={key}, contracts=contracts), key)
    interaction = exchange.exchange({"model": "emo-detect-v1", "input": {"image_url": key}})
    assert interaction.request.headers["authorization"] == "Bearer <redacted>"
    assert key not in repr(interaction) and key not in str(interaction.to_dict())
    assert key[3:20] not in str(interaction.to_dict())
    assert "7c3b7c3b" not in repr(exchange)


@pytest.mark.parametrize(
    ("path", "routed"),
    [
        ("/services/aigc/image2video/face-detect", True),
        ("/api/v1/services/aigc/image2video/face-detect", True),
        ("/qwen/api/v1/services/aigc/image2video/face-detect", True),
        ("/api/v1/services/aigc/image2video/face-detect/", False),
        ("/api/v1//services/aigc/image2video/face-detect", False),
        ("//services/aigc/image2video/face-detect", False),
        ("/api/v1/services/aigc/image2video/face-detect/x", False),
        ("/api/v1/services/aigc/image2video/face-detection", False),
        ("/api/v1/xservices/aigc/image2video/face-detect", False),
    ],
    ids=[
        "bare",
        "documented",
        "gateway-prefix",
        "trailing-slash",
        "double-slash",
        "double-slash-first",
        "below",
        "longer-name",
        "segment-glued",
    ],
)
def test_the_fake_routes_the_profiles_path_under_whole_segment_prefixes_only(
    contracts: Contracts, path: str, *, routed: bool
) -> None:
    """The trailing-slash and double-slash forms are other paths (docs/endpoint.md documents the
    one path): the fake does not speak for them."""
    pattern = re.compile(endpoint_path_regex(contracts.profile.path))
    assert bool(pattern.search(path)) is routed


def test_mock_endpoint_routes_the_path_the_profile_names(contracts: Contracts) -> None:
    moved = copy.copy(contracts)
    moved.profile = dataclasses.replace(contracts.profile, path="/services/elsewhere/detect")
    fake = FaceDetectFake(api_keys={"k"}, contracts=contracts)
    with mock_endpoint(fake, moved, strict=True) as mocked:
        assert httpx.post("http://127.0.0.1:9/api/v1/services/elsewhere/detect").status_code == 401
        with pytest.raises(UnroutedRequest, match=r"POST http://127.0.0.1:9/api/v1/services/aigc"):
            httpx.post("http://127.0.0.1:9" + "/api/v1" + contracts.profile.path)
    assert mocked.unrouted == [f"POST http://127.0.0.1:9/api/v1{contracts.profile.path}"]
