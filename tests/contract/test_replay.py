"""Replay of documented and recorded interactions through the client, served by respx, each
read and judged by the contracts of the run (``--contracts``, else the packaged ones): the
fixtures are that model's own (``fixtures/<contracts folder>``), their fields read through its
profile (a model without boxes has none to compare)."""

from __future__ import annotations

import dataclasses

import pytest
import respx

from facedetect_contract.checks import run_checks
from facedetect_contract.client import CheckFailed, CheckPassed, FaceDetectClient, RequestError
from facedetect_contract.contracts.fixtures import FIXTURE_DIR, fixture_dir, load_fixtures
from facedetect_contract.contracts.loader import Contracts
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.core.violations import Severity
from facedetect_contract.doubles.offline import UnmatchedRequest, mount_replay
from facedetect_contract.plugin import TEST_KEY

BASE_URL = "https://dashscope.aliyuncs.com/api/v1"


@pytest.fixture(scope="module")
def fixtures(contracts: Contracts) -> list[Interaction]:
    """The packaged fixtures of the run's model, read against the contracts of the run."""
    return load_fixtures(fixture_dir(contracts), contracts)


def key(contracts: Contracts) -> dict[str, str]:
    """The environment holding the key, in the variable the contracts name."""
    return {contracts.profile.api_key_env: TEST_KEY}


def replayed(interaction: Interaction, client: FaceDetectClient) -> CheckPassed | CheckFailed:
    request = interaction.request
    auth = request.headers.get("authorization")
    return client.result(
        client.exchange(
            request.body,
            content=request.body_text.encode() if request.body_text is not None else None,
            headers={k: v for k, v in request.headers.items() if k != "authorization"},
            auth="none" if auth is None else ("invalid" if "invalid" in auth else "key"),
            name=interaction.name,
        )
    )


def test_every_fixture_replays_through_the_client_to_its_expected_result(
    replay_fixture: Interaction, contracts: Contracts
) -> None:
    """What the client receives conforms, and the client types it as the fixture says.

    The packaged fixtures and your own recordings (``--record-dir``). A documented fixture must
    be spotless; a recorded one may carry additive findings (a new field the endpoint started
    sending), never a breaking one.
    """
    interaction = replay_fixture
    expect = interaction.expect or {}
    with (
        respx.mock(assert_all_called=True) as router,
        FaceDetectClient(
            base_url=BASE_URL, environ=key(contracts), sleep=lambda _s: None, contracts=contracts
        ) as client,
    ):
        # Each fixture alone: a recording may share its request with a documented fixture.
        mount_replay(router, [interaction], client.url, contracts)
        try:
            result: object = replayed(interaction, client)
        except RequestError as error:
            result = error
    received = result.interaction  # type: ignore[attr-defined]  # every result carries it
    assert received.response.body == interaction.response.body
    assert received.response.status == interaction.response.status
    violations = run_checks(dataclasses.replace(received, request=interaction.request), contracts)
    if interaction.provenance.get("kind") == "documented":
        assert violations == []
    else:
        assert [v for v in violations if v.severity is Severity.BREAKING] == []
    match expect.get("result"):
        case "check_passed":
            assert isinstance(result, CheckPassed)
            body = interaction.response.body
            boxes = contracts.profile.boxes
            received = {"face_box": result.face_bbox, "crop_box": result.ext_bbox}
            for role, at in boxes.items():  # the boxes the model has, as the fixture has them
                assert list(received[role] or ()) == at.get(body), role
            for role in set(received) - set(boxes):  # and none it has not
                assert received[role] is None, role
        case "check_failed":
            assert isinstance(result, CheckFailed)
            assert result.shape == expect["shape"]
            assert result.code == expect.get("code", result.code)
            kind = next(k for k in contracts.profile.answers if k.shape == expect["shape"])
            if kind.message is not None:  # the reason, where the model's failure carries it
                assert result.message == kind.message.get(interaction.response.body)
        case "request_error":
            assert isinstance(result, RequestError)
            assert result.code == expect["code"]
            assert result.status == interaction.response.status
        case other:
            pytest.fail(f"fixture {interaction.name}: unknown expect.result {other!r}")


def test_a_request_that_no_fixture_holds_fails_loudly_naming_the_closest_fixture(
    fixtures: list[Interaction], contracts: Contracts
) -> None:
    """An unmatched request raises UnmatchedRequest with the differing part and the fix."""
    with (
        respx.mock as router,
        FaceDetectClient(base_url=BASE_URL, environ=key(contracts), contracts=contracts) as client,
    ):
        mount_replay(router, fixtures, client.url, contracts)
        with pytest.raises(UnmatchedRequest) as raised:
            client.detect("https://example.com/never-recorded.png")
    message = str(raised.value)
    assert "never-recorded.png" in message
    assert "closest is fixture" in message
    assert "pytest --live --record" in message


def test_the_fixtures_cover_every_documented_interaction_the_suite_promises(
    fixtures: list[Interaction], contracts: Contracts
) -> None:
    """Every answer kind of a check's result the model's profile documents has a fixture
    (pass, each failure shape); for EMO's own folder also shape B per reason, 401 x2, 400 x3,
    429, 500."""
    assert "check_passed" in {(i.expect or {}).get("result") for i in fixtures}
    shapes = {(i.expect or {}).get("shape") for i in fixtures}
    assert set(contracts.profile.failure_shapes) <= shapes
    if fixture_dir(contracts) != FIXTURE_DIR:
        return
    names = {interaction.name for interaction in fixtures}
    portrait = {
        i.response.body["code"] for i in fixtures if i.name.startswith("check-failed-shape-b-")
    }
    assert portrait == contracts.portrait_codes
    assert {
        "documented-pass-1-1",
        "public-client-pass-1-1",
        "check-failed-shape-a",
        "invalid-api-key-no-key",
        "invalid-api-key-bad-key",
        "invalid-parameter-bad-ratio",
        "invalid-parameter-missing-image-url",
        "invalid-url-file-scheme",
        "throttling-rate-quota",
        "internal-error",
    } <= names


def test_where_fixtures_share_a_request_the_newest_recording_is_replayed(
    fixtures: list[Interaction], contracts: Contracts
) -> None:
    """Recorded traffic wins over documented traffic for the same request."""
    documented = next(
        i
        for i in fixtures
        if i.provenance.get("kind") == "documented"
        and (i.expect or {}).get("result") == "check_passed"
    )
    data = documented.to_dict()
    data["response"]["body"]["request_id"] = "recorded-later"
    older = dict(data, provenance={"kind": "recorded", "date": "2026-01-01", "host": "h"})
    newer = dict(data, provenance={"kind": "recorded", "date": "2026-11-01", "host": "h"})
    newer = {
        **newer,
        "response": {
            **data["response"],
            "body": {**data["response"]["body"], "request_id": "newest"},
        },
    }
    recordings = [Interaction.from_dict(older), Interaction.from_dict(newer)]
    with (
        respx.mock as router,
        FaceDetectClient(base_url=BASE_URL, environ=key(contracts), contracts=contracts) as client,
    ):
        mount_replay(router, [documented, *recordings], client.url, contracts)
        result = replayed(documented, client)
    assert result.request_id == "newest"
