"""The markers a team writes and the fixtures that carry them out, through pytester: readings
per test and every reading at once, faults per test, the stub per test and its factory, replay
from a folder of recordings; and every marker that would go unheard failing the test, named."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from facedetect_contract.contracts.fixtures import FIXTURE_DIR
from facedetect_contract.contracts.loader import CONTRACT_DIR, load_contracts
from facedetect_contract.contracts.questions import (
    combination_id,
    pairwise_cover,
    reading_id,
    reading_pairs,
)

pytest_plugins = ["pytester"]

CONTRACTS = load_contracts()
QUESTIONS = CONTRACTS.questions

HEADER = """
import httpx
import pytest

BODY = {"model": "emo-detect-v1", "input": {"image_url": "https://example.com/no-human.png"},
        "parameters": {"ratio": "1:1"}}
ENDPOINT = "https://dashscope.aliyuncs.com/api/v1/services/aigc/image2video/face-detect"


def post(url, key, body=BODY):
    return httpx.post(url, headers={"Authorization": f"Bearer {key}"}, json=body, timeout=10)
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(HEADER + body)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


# --- 1. readings per test ----------------------------------------------------------------------


def test_the_readings_marker_reaches_the_fake_the_mock_the_client_and_the_stub(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
READINGS = pytest.mark.facedetect_readings("failure-shape=B", "humanoid-returned=returned")


@READINGS
def test_fake(facedetect_fake, facedetect_readings):
    assert facedetect_fake.readings["failure-shape"] == "B"
    assert dict(facedetect_readings) == dict(facedetect_fake.readings)


@READINGS
def test_mock(facedetect_mock, facedetect_api_key):
    answer = post(ENDPOINT, facedetect_api_key)
    assert (answer.status_code, answer.json()["code"]) == (400, "InvalidFile.NoHuman")


@pytest.mark.facedetect_readings({"failure-shape": "B"})
def test_client(facedetect_client):
    result = facedetect_client.detect("https://example.com/no-human.png")
    assert (result.shape, result.code) == ("B", "InvalidFile.NoHuman")


@READINGS
def test_stub(facedetect_stub, facedetect_api_key):
    assert facedetect_stub.fake.readings["failure-shape"] == "B"
    assert facedetect_stub.fake.readings["humanoid-returned"] == "returned"
    body = {**BODY, "input": {"image_url": facedetect_stub.image_url("no-human.png")}}
    answer = post(facedetect_stub.url, facedetect_api_key, body)
    assert (answer.status_code, answer.json()["code"]) == (400, "InvalidFile.NoHuman")


def test_defaults(facedetect_readings):
    assert facedetect_readings["failure-shape"] == "A"
""",
    )
    result.assert_outcomes(passed=5)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            '"failure-details=emptyy"',
            "*@pytest.mark.facedetect_readings: failure-details=emptyy: question "
            "'failure-details' has no reading 'emptyy'*its readings: filled, empty, absent*",
        ),
        (
            '"no-such-question=x"',
            "*@pytest.mark.facedetect_readings: no-such-question=x: no open question*"
            "the questions: failure-shape, *",
        ),
        ('"failure-shape"', "*@pytest.mark.facedetect_readings: 'failure-shape' is not*"),
    ],
    ids=["bad-reading", "bad-question", "not-question-equals-reading"],
)
def test_a_bad_reading_fails_the_test_at_setup_naming_the_marker_and_the_valid_readings(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    result = run(
        pytester,
        f"""
@pytest.mark.facedetect_readings({marker})
def test_marked(facedetect_mock):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


def test_the_readings_marker_and_the_fake_markers_shape_must_agree(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_readings("failure-shape=A")
@pytest.mark.facedetect_fake(failure_shape="B")
def test_marked(facedetect_fake):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*facedetect_fake*facedetect_readings*failure_shape='B'*"])


# --- 2. every reading at once --------------------------------------------------------------------


def collected(result: pytest.RunResult) -> list[str]:
    return re.findall(r"^\S+::test_each\[(.+)\]$", result.stdout.str(), re.MULTILINE)


def test_every_reading_runs_the_test_once_per_reading_with_readable_ids(
    pytester: pytest.Pytester,
) -> None:
    body = """
@pytest.mark.facedetect_every_reading
def test_each(request, facedetect_fake, facedetect_readings):
    question, reading = request.node.callspec.id.split("=")
    assert facedetect_fake.readings[question] == reading == facedetect_readings[question]
"""
    pairs = reading_pairs(QUESTIONS)
    ids = collected(run(pytester, body, "--co", "-q"))
    assert ids == [reading_id(q, r) for q, r in pairs]
    assert "failure-details=empty" in ids
    run(pytester, body).assert_outcomes(passed=len(pairs))


def test_every_reading_pairwise_runs_each_combination_of_the_cover(
    pytester: pytest.Pytester,
) -> None:
    body = """
import json

@pytest.mark.facedetect_every_reading(pairwise=True)
def test_each(facedetect_stub, facedetect_readings):
    assert dict(facedetect_stub.fake.readings) == dict(facedetect_readings)
    print("PLAYED", json.dumps(dict(facedetect_readings), sort_keys=True))
"""
    cover = pairwise_cover(QUESTIONS)
    ids = collected(run(pytester, body, "--co", "-q"))
    assert ids == [combination_id(c, QUESTIONS) for c in cover]
    result = run(pytester, body, "-s")
    result.assert_outcomes(passed=len(cover))
    played = [json.loads(line) for line in re.findall(r"PLAYED (.+)", result.stdout.str())]
    assert sorted(map(json.dumps, played)) == sorted(json.dumps(c, sort_keys=True) for c in cover)


def test_every_reading_leaves_the_questions_the_test_pins(pytester: pytest.Pytester) -> None:
    body = """
@pytest.mark.facedetect_every_reading
@pytest.mark.facedetect_readings("failure-shape=B")
def test_each(facedetect_readings):
    assert facedetect_readings["failure-shape"] == "B"
"""
    ids = collected(run(pytester, body, "--co", "-q"))
    pairs = [(q, r) for q, r in reading_pairs(QUESTIONS) if q != "failure-shape"]
    assert ids == [reading_id(q, r) for q, r in pairs]
    run(pytester, body).assert_outcomes(passed=len(pairs))


# --- 3. faults per test --------------------------------------------------------------------------


def test_the_faults_marker_reaches_the_mock_the_client_and_the_stub(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_faults("throttle:first=1", "503:first=2")
def test_mock(facedetect_mock, facedetect_api_key):
    statuses = [post(ENDPOINT, facedetect_api_key).status_code for _ in range(3)]
    assert statuses == [429, 503, 200]


@pytest.mark.facedetect_faults("503:first=1")
def test_client_retries(facedetect_client, facedetect_fake):
    facedetect_client.detect("https://example.com/portrait.png")  # retried past the 503
    assert facedetect_fake.requests == 1


@pytest.mark.facedetect_faults("throttle:retry-after=2:first=1")
def test_stub(facedetect_stub, facedetect_api_key):
    first = post(facedetect_stub.url, facedetect_api_key)
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert facedetect_stub.faulted == 1
""",
    )
    result.assert_outcomes(passed=3)


def test_a_bad_fault_spec_fails_the_test_naming_the_marker_and_the_parsers_message(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_faults("500:retry-after=2")
def test_marked(facedetect_mock):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.facedetect_faults: fault spec '500:retry-after=2'*throttle only*Valid*"]
    )


def test_a_marker_that_names_nothing_fails_the_test_instead_of_passing(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_faults()
def test_no_fault(facedetect_mock):
    pass


@pytest.mark.facedetect_readings()
def test_no_reading(facedetect_mock):
    pass
""",
    )
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*facedetect_faults*names no fault*"])
    result.stdout.fnmatch_lines(["*facedetect_readings*names no reading*"])


# --- 4. the stub per test, and the factory -------------------------------------------------------


def test_unmarked_tests_share_the_session_stub_and_a_marked_one_gets_its_own_stopped_after(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
SEEN = {}


def test_a(facedetect_stub):
    SEEN["a"] = facedetect_stub.origin


def test_b(facedetect_stub, facedetect_session_stub):
    assert facedetect_stub is facedetect_session_stub
    assert facedetect_stub.origin == SEEN["a"]


@pytest.mark.facedetect_readings("failure-details=empty")
def test_own(facedetect_stub):
    assert facedetect_stub.origin != SEEN["a"]
    assert facedetect_stub.fake.readings["failure-details"] == "empty"
    SEEN["own"] = facedetect_stub.origin


def test_own_was_stopped():
    with pytest.raises(httpx.ConnectError):
        httpx.get(SEEN["own"] + "/images/portrait.png", timeout=5)
""",
    )
    result.assert_outcomes(passed=4)


def test_the_stub_factory_starts_stubs_with_options_and_stops_them_after(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
SEEN = []


@pytest.mark.facedetect_faults("drop:first=1")
def test_factory(facedetect_stub_factory, facedetect_api_key):
    shaped = facedetect_stub_factory(readings={"failure-shape": "B"}, faults=())
    faulty = facedetect_stub_factory()  # the marker's faults
    assert shaped.origin != faulty.origin
    body = {**BODY, "input": {"image_url": shaped.image_url("no-human.png")}}
    assert post(shaped.url, facedetect_api_key, body).status_code == 400
    with pytest.raises(httpx.RemoteProtocolError):
        post(faulty.url, facedetect_api_key)
    SEEN.extend([shaped.origin, faulty.origin])


def test_stopped():
    for origin in SEEN:
        with pytest.raises(httpx.ConnectError):
            httpx.get(origin + "/images/portrait.png", timeout=5)
""",
    )
    result.assert_outcomes(passed=2)


def test_the_stub_factory_carries_out_the_fake_marker_or_names_what_it_cannot(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_fake(api_keys=["sk-theirs"], failure_shape="B")
def test_keys_and_shape(facedetect_stub_factory):
    stub = facedetect_stub_factory()
    body = {**BODY, "input": {"image_url": stub.image_url("no-human.png")}}
    assert post(stub.url, "sk-theirs", body).status_code == 400  # its key, shape B
    assert post(stub.url, "sk-facedetect-test-key-not-a-secret", body).status_code == 401


@pytest.mark.facedetect_fake(request_ids=lambda: "r")
def test_refused(facedetect_stub_factory):
    pass
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*facedetect_stub_factory cannot carry out ?'request_ids'?*"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '@pytest.mark.facedetect_faults("throttle")\n'
            "def test_marked(facedetect_fake):\n    pass\n",
            "*@pytest.mark.facedetect_faults applies to facedetect_mock, facedetect_client, "
            "facedetect_stub*takes none of them*",
        ),
        (
            '@pytest.mark.facedetect_readings("failure-shape=B")\n'
            "def test_marked(facedetect_api_key):\n    pass\n",
            "*@pytest.mark.facedetect_readings applies to facedetect_fake*takes none of them*",
        ),
        (
            "@pytest.mark.facedetect_every_reading\ndef test_marked():\n    pass\n",
            "*@pytest.mark.facedetect_every_reading applies to*takes none of them*",
        ),
        (
            '@pytest.mark.facedetect_replay("recs")\ndef test_marked(facedetect_mock):\n    pass\n',
            "*@pytest.mark.facedetect_replay applies to facedetect_replay*",
        ),
        (
            "@pytest.mark.facedetect_fake(request_ids=lambda: 'x')\n"
            "def test_marked(facedetect_stub):\n    pass\n",
            "*facedetect_stub cannot carry out *request_ids* (it takes api_keys*",
        ),
        (
            "def test_marked(facedetect_replay, facedetect_mock):\n    pass\n",
            "*facedetect_replay and facedetect_mock both answer*",
        ),
    ],
    ids=[
        "faults-on-the-fake",
        "readings-on-nothing",
        "every-reading-on-nothing",
        "replay-without-its-fixture",
        "fake-option-the-stub-cannot-take",
        "replay-and-mock",
    ],
)
def test_a_marker_that_cannot_apply_fails_the_test_naming_it(
    pytester: pytest.Pytester, body: str, message: str
) -> None:
    result = run(pytester, "\n" + body)
    assert result.ret != pytest.ExitCode.OK
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


# --- 5. replay for a team's tests ----------------------------------------------------------------


def fixture_request(name: str) -> dict[str, object]:
    recorded = json.loads((FIXTURE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    body: dict[str, object] = recorded["request"]["body"]
    return body


def test_replay_answers_from_the_packaged_fixtures_and_from_a_folder_beside_the_test(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.path / "recs"
    folder.mkdir()
    shutil.copy(FIXTURE_DIR / "internal-error.json", folder)
    body = fixture_request("internal-error")
    result = run(
        pytester,
        f"""
RECORDED = {body!r}


def test_packaged(facedetect_replay):
    answer = post("https://gw.example.com/api/v1/services/aigc/image2video/face-detect",
                  "sk-mine", RECORDED)
    assert (answer.status_code, answer.json()["code"]) == (500, "InternalError")


@pytest.mark.facedetect_replay("recs")
def test_folder(facedetect_replay):
    assert post(ENDPOINT, "sk-mine", RECORDED).status_code == 500
""",
    )
    result.assert_outcomes(passed=2)


def test_replay_without_a_folder_answers_from_the_chosen_models_fixtures(
    pytester: pytest.Pytester,
) -> None:
    """With ``--contracts`` naming another model, the packaged recordings replayed are that
    model's: its documented request is answered in its shape, face-detect's is not answered."""
    folder = FIXTURE_DIR.parent / "liveportrait-detect"
    recorded = json.loads((folder / "documented-fail.json").read_text(encoding="utf-8"))
    body, answer = recorded["request"]["body"], recorded["response"]["body"]
    path = load_contracts(CONTRACT_DIR.parent / "liveportrait-detect").profile.path
    result = run(
        pytester,
        f"""
RECORDED, ANSWER, URL = {body!r}, {answer!r}, "https://x.example/api/v1{path}"


@pytest.mark.facedetect_replay
def test_the_models_own(facedetect_replay):
    assert post(URL, "sk-mine", RECORDED).json()["output"] == ANSWER["output"]


@pytest.mark.facedetect_replay
def test_face_detects_is_not_this_models(facedetect_replay):
    post(URL, "sk-mine", {fixture_request("internal-error")!r})
""",
        f"--contracts={CONTRACT_DIR.parent / 'liveportrait-detect'}",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*no recording in */fixtures/liveportrait-detect answers*"])


def test_a_request_no_recording_answers_fails_the_test_naming_it_and_the_folder(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.path / "recs"
    folder.mkdir()
    shutil.copy(FIXTURE_DIR / "internal-error.json", folder)
    result = run(
        pytester,
        """
@pytest.mark.facedetect_replay("recs")
def test_unmatched(facedetect_replay):
    post(ENDPOINT, "sk-mine")


@pytest.mark.facedetect_replay("recs")
def test_swallowed(facedetect_replay):
    try:
        post(ENDPOINT, "sk-mine")
    except Exception:
        pass
""",
    )
    result.assert_outcomes(failed=1, passed=1, errors=1)
    named = (
        "*facedetect_replay: no recording in */recs answers POST "
        "/api/v1/services/aigc/image2video/face-detect (model 'emo-detect-v1', "
        "image URL 'https://example.com/no-human.png')*"
    )
    result.stdout.fnmatch_lines([named, named])


def test_a_replay_folder_that_does_not_exist_fails_naming_the_marker(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_replay("no-such-folder")
def test_marked(facedetect_replay):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.facedetect_replay: 'no-such-folder': no folder*"])


# --- 7. --record-dir offline ---------------------------------------------------------------------


def test_record_dir_is_accepted_without_live_and_record_is_not(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    offline = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--record-dir", "recs")
    offline.assert_outcomes(passed=1)
    recording = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--record")
    assert recording.ret == pytest.ExitCode.USAGE_ERROR
