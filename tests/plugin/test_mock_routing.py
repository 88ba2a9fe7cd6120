"""``facedetect_mock`` as a team meets it, through pytester: it answers the endpoint's path and
nothing else. Every other request reaches the team's own respx routes or the network untouched
(a closed loopback port shows the connection error reaching the caller), a strict mock fails the
test naming the request, and the stub fixture works beside it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# Port 9 (discard) on loopback: nothing listens, so a request that reaches the network fails to
# connect at once, and nothing ever leaves the machine.
CLOSED = "http://127.0.0.1:9"

HEADER = f'''
import httpx
import pytest

from facedetect_contract.contracts.loader import load_contracts

CLOSED = "{CLOSED}"
ENDPOINT = CLOSED + "/api/v1" + load_contracts().profile.path
'''


def marked(strict: bool) -> str:
    """The marker line of a strict test; none otherwise (the default is what most teams run)."""
    return "@pytest.mark.facedetect_mock(strict=True)" if strict else ""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(HEADER + body)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_a_request_the_fake_does_not_route_reaches_the_caller_as_a_connection_error(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.parametrize(
    "url",
    [
        CLOSED + "/",
        CLOSED + "/api/v1/services/aigc/image2video/video-synthesis",  # the team's next call
        ENDPOINT + "/",  # trailing slash: another path, not documented
        ENDPOINT.replace("/api/v1/", "/api/v1//"),  # double slash: another path
        ENDPOINT + "/more",
    ],
    ids=["root", "another-endpoint", "trailing-slash", "double-slash", "below-the-path"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unrouted(facedetect_mock, url, method):
    with pytest.raises(httpx.ConnectError):
        httpx.request(method, url, json={})
    assert not facedetect_mock.routes["face-detect"].called
""",
    )
    result.assert_outcomes(passed=10)


def test_the_endpoint_path_is_still_answered_by_the_fake_on_any_host_and_prefix(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.parametrize(
    "url",
    [ENDPOINT, ENDPOINT.replace("/api/v1/", "/qwen/api/v1/"), "http://gw.invalid" + ENDPOINT[16:]],
    ids=["documented", "gateway-prefix", "any-host"],
)
def test_routed(facedetect_mock, facedetect_api_key, url):
    answer = httpx.post(
        url,
        headers={"Authorization": f"Bearer {facedetect_api_key}"},
        json={
            "model": "emo-detect-v1",
            "input": {"image_url": "https://example.com/portrait.png"},
            "parameters": {"ratio": "1:1"},
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"]["check_pass"] is True
""",
    )
    result.assert_outcomes(passed=3)


def test_a_strict_mock_fails_the_test_naming_the_request_without_query_or_userinfo(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_mock(strict=True)
def test_strict(facedetect_mock):
    httpx.get("http://someone:hunter2@127.0.0.1:9/video?api_key=sk-in-the-query")
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UnroutedRequest*GET http://127.0.0.1:9/video is not the*"])
    # The test's own source line shows its URL; the error, what a CI summary shows, never does.
    named = [line for line in result.outlines if "UnroutedRequest:" in line]
    assert named
    assert not [line for line in named if "sk-in-the-query" in line or "hunter2" in line]


def test_a_strict_mock_fails_a_test_whose_code_swallowed_the_error(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_mock(strict=True)
def test_swallowed(facedetect_mock):
    try:
        httpx.post(CLOSED + "/video")
    except Exception:
        pass  # the team's code: "best effort"
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unrouted request(s)*POST http://127.0.0.1:9/video*"])


def test_a_strict_mock_passes_a_test_that_only_calls_the_endpoint(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.facedetect_mock(strict=True)
def test_endpoint_only(facedetect_mock):
    assert httpx.post(ENDPOINT, json={}).status_code == 401
""",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("facedetect_mock(strict='yes')", "*facedetect_mock: strict must be True or False*"),
        (
            "facedetect_mock(stric=True)",
            "*facedetect_mock: unknown option(s) *stric*known: *strict*",
        ),
        ("facedetect_mock(True)", "*facedetect_mock takes keyword arguments only*"),
        (
            "facedetect_fake(strict=True)",
            "*unknown option(s) *strict* belong to @pytest.mark.facedetect_mock*",
        ),
    ],
    ids=["not-a-bool", "misspelt", "positional", "on-the-fake-marker"],
)
def test_a_wrong_mock_marker_is_a_usage_error(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    result = run(
        pytester,
        f"""
@pytest.mark.{marker}
def test_marked(facedetect_mock):
    pass
""",
    )
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines([message])


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_a_route_the_team_adds_to_the_mock_answers(
    pytester: pytest.Pytester, *, strict: bool
) -> None:
    result = run(
        pytester,
        f"""
{marked(strict)}
def test_own_route(facedetect_mock):
    facedetect_mock.post(CLOSED + "/video").respond(201, json={{"task_id": "t"}})
    assert httpx.post(CLOSED + "/video").status_code == 201
""",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "fixtures",
    ["facedetect_mock, respx_mock", "respx_mock, facedetect_mock"],
    ids=["respx-started-after", "respx-started-before"],
)
@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_the_teams_own_respx_routes_and_rules_apply_beside_the_mock(
    pytester: pytest.Pytester, fixtures: str, *, strict: bool
) -> None:
    result = run(
        pytester,
        f"""
import respx

{marked(strict)}
def test_own_router({fixtures}):
    respx_mock.post(CLOSED + "/video").respond(201)
    assert httpx.post(CLOSED + "/video").status_code == 201
    assert httpx.post(ENDPOINT, json={{}}).status_code == 401  # the fake: no key
    if not {strict}:  # (strict: the tests above; an expected strict error fails at teardown)
        # Their router's own rule (assert_all_mocked) decides a request nobody routes.
        with pytest.raises(AssertionError, match="not mocked"):
            httpx.get(CLOSED + "/elsewhere")


{marked(strict)}
def test_in_the_body(facedetect_mock):
    with respx.mock(assert_all_mocked=False) as own:
        own.get(CLOSED + "/video").respond(204)
        assert httpx.get(CLOSED + "/video").status_code == 204
        assert httpx.get(CLOSED + "/other").status_code == 200  # their own auto-mock, not ours
        assert httpx.post(ENDPOINT, json={{}}).status_code == 401
""",
        "-p",
        "respx.plugin",
    )
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_the_mock_and_the_stub_work_in_one_test(pytester: pytest.Pytester, *, strict: bool) -> None:
    result = run(
        pytester,
        f"""
{marked(strict)}
def test_both(facedetect_mock, facedetect_stub, facedetect_api_key):
    body = {{
        "model": "emo-detect-v1",
        "input": {{"image_url": facedetect_stub.image_url("portrait.png")}},
        "parameters": {{"ratio": "3:4"}},
    }}
    headers = {{"Authorization": f"Bearer {{facedetect_api_key}}"}}
    served = facedetect_stub.requests_served
    # To the stub over HTTP: the stub answers, after downloading its own image itself.
    answer = httpx.post(facedetect_stub.url, headers=headers, json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"]["check_pass"] is True
    assert facedetect_stub.requests_served == served + 1
    assert not facedetect_mock.routes["face-detect"].called
    # The stub's images from the test: served by the stub, a PNG.
    image = httpx.get(facedetect_stub.image_url("portrait.png"))
    assert image.content.startswith(b"\\x89PNG")
    # The endpoint on another host: the fake, in-process.
    assert httpx.post(ENDPOINT, headers=headers, json=body).status_code == 200
    assert facedetect_mock.routes["face-detect"].call_count == 1
    assert facedetect_stub.requests_served == served + 1
""",
    )
    result.assert_outcomes(passed=1)
