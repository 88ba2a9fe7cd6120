"""The live run driven offline: the fake behind an httpx mock transport, no socket, no waits."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from facedetect_contract.contracts.cases import DEFAULT_CASES_FILE, LiveCase, load_cases
from facedetect_contract.contracts.fixtures import FIXTURE_DIR, load_fixtures
from facedetect_contract.core.violations import Severity
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.offline import fake_handler, replay_handler
from facedetect_contract.live.result import RunError
from facedetect_contract.live.run import LiveRun, LiveSettings
from facedetect_contract.report import LiveReport
from facedetect_contract.report.render_markdown import render as to_markdown
from facedetect_contract.report.terminal import summary_lines
from tests.helpers.live import CONTRACTS, KEY, Handler, answer, live_run, throttled_once


def test_a_run_against_the_fake_judges_every_request_without_a_finding(tmp_path: Path) -> None:
    run, fake = live_run(tmp_path)
    run.execute()
    assert {v.status for v in run.verdicts.values()} == {"judged"}
    report = LiveReport.from_run(run)
    assert report.findings == ()
    assert report.exit_status == 0
    assert run.spend.images_billed == fake.billed == 2


def test_the_cases_get_the_budget_before_anything_else(tmp_path: Path) -> None:
    run, fake = live_run(tmp_path, max_billed=1)
    run.execute()
    not_sent = {name for name, v in run.verdicts.items() if v.status == "not-sent"}
    assert not_sent == {"case-documented-3-4", "probe-async-header"}
    assert fake.billed == 1


def test_only_the_named_requests_are_sent(tmp_path: Path) -> None:
    run, fake = live_run(tmp_path)
    run.execute(["probe-no-key", "probe-bad-key"])
    assert set(run.verdicts) == {"probe-no-key", "probe-bad-key"}
    assert fake.requests == 2


def test_the_documented_fixture_is_the_recording_a_live_case_is_compared_with(
    tmp_path: Path,
) -> None:
    """The fake answers the documented image as the docs do; a crop moved from it is drift."""
    run, _ = live_run(tmp_path, record_dir=FIXTURE_DIR)
    assert run.verdict("case-documented-1-1").violations == ()

    def moved_crop(serve: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            response = serve(request)
            body = json.loads(response.content)
            if response.status_code == 200 and body["output"].get("check_pass"):
                x1, y1, x2, y2 = body["output"]["ext_bbox"]
                body["output"]["ext_bbox"] = [x1 + 100, y1, x2 + 100, y2]
            return answer(response.status_code, body)

        return handle

    run, _ = live_run(tmp_path, handler=moved_crop, record_dir=FIXTURE_DIR)
    verdict = run.verdict("case-documented-1-1")
    (finding,) = verdict.violations
    assert (finding.check, finding.pointer) == ("behaviour_matches_recording", "/output/ext_bbox")
    assert finding.severity is Severity.ADDITIVE
    assert "documented-pass-1-1" in finding.documented


def test_a_shape_b_failure_is_observed_and_meets_expect_fail(tmp_path: Path) -> None:
    nobody = LiveCase("nobody", "https://example.com/portraits/no-human.png", "1:1", "fail")
    run, _ = live_run(tmp_path, (nobody,), failure_shape="B", examples=0)
    run.execute()
    report = LiveReport.from_run(run)
    assert report.findings == ()
    observed = {o.question: o for o in report.observations}
    assert observed["failure-shape"].answer == "shape B (HTTP 400 InvalidFile.NoHuman)"
    assert observed["failure-shape"].reading == "B"
    assert observed["failure-billing"].answer == "not billed (HTTP 400 InvalidFile.NoHuman)"
    assert observed["failure-billing"].reading == "not-billed"


def test_a_case_that_misses_its_expect_is_a_breaking_finding(tmp_path: Path) -> None:
    wrong = LiveCase("wrong", "https://example.com/portraits/no-human.png", "1:1", "pass")
    run, _ = live_run(tmp_path, (wrong,), examples=0)
    verdict = run.verdict("case-wrong")
    (finding,) = verdict.breaking
    assert finding.check == "live_case_meets_its_expect"
    assert finding.pointer == "/output/check_pass"
    assert verdict.message is not None
    assert LiveReport.from_run(run).exit_status == 1


def test_retries_are_paced_too_so_no_second_sees_more_attempts_than_the_limit(
    tmp_path: Path,
) -> None:
    """Every attempt, retries included, starts inside the rate limit."""
    starts: list[float] = []

    def timed(serve: Handler) -> Handler:
        throttled = throttled_once(serve)

        def handle(request: httpx.Request) -> httpx.Response:
            starts.append(time.monotonic())
            return throttled(request)

        return handle

    run, _ = live_run(tmp_path, handler=timed, qps=4, sleep=time.sleep)
    run.execute(["probe-no-key", "probe-bad-key", "probe-invalid-ratio"])
    assert {v.status for v in run.verdicts.values()} == {"judged"}
    assert len(starts) == 6
    starts.sort()
    assert max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts) <= 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"examples": -1}, "--live-examples must be 0 or more"),
        ({"max_billed": -2}, "--max-billed must be 0 or more"),
        ({"qps": float("nan")}, "--live-qps must be 0"),
        ({"deadline": float("inf")}, "--live-deadline must be"),
    ],
    ids=["examples", "max-billed", "qps", "deadline"],
)
def test_wrong_settings_name_their_option(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LiveSettings(**options)  # type: ignore[arg-type]


def test_a_503_that_outlasts_the_retries_is_an_error_of_the_run_not_drift(tmp_path: Path) -> None:
    def unavailable(serve: Handler) -> Handler:
        body = {"code": "ModelUnavailable", "message": "busy", "request_id": "r-503"}
        return lambda request: answer(503, body)

    run, _ = live_run(tmp_path, handler=unavailable, examples=0)
    verdict = run.verdict("probe-invalid-ratio")
    assert verdict.status == "failing"
    assert verdict.violations == ()
    assert len(verdict.attempts) == run.settings.max_retries + 1
    assert verdict.reason.startswith(
        f"endpoint failing: still HTTP 503 ModelUnavailable after {run.settings.max_retries} retries"
    )
    assert run.errors == [RunError(verdict.reason, "probe-invalid-ratio")]
    report = LiveReport.from_run(run)
    # Nothing judged: a verdict of its own, never drift and never a pass.
    assert (report.outcome, report.findings) == ("not judged", ())
    assert report.headline().startswith("not judged: the endpoint kept failing")
    assert report.exit_status == 1


def test_record_leaves_out_answers_replay_would_fail_on_and_says_so(tmp_path: Path) -> None:
    """Recorded fixtures carry an expect and no breaking finding, so the offline suite stays green."""

    def drop_request_id_from_errors(serve: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            response = serve(request)
            body = json.loads(response.content)
            if response.status_code == 401:
                body.pop("request_id")
            return answer(response.status_code, body)

        return handle

    run, _ = live_run(tmp_path, handler=drop_request_id_from_errors, record=True, examples=0)
    run.execute()
    recorded = load_fixtures(tmp_path, CONTRACTS)
    assert {i.name for i in recorded} >= {"live-case-documented-1-1", "live-probe-invalid-ratio"}
    assert not {"live-probe-no-key", "live-probe-bad-key"} & {i.name for i in recorded}
    assert all(i.expect for i in recorded)
    assert run.not_recorded == {"answers with breaking findings": 2}
    report = LiveReport.from_run(run)
    assert report.to_dict()["not_recorded"] == {"answers with breaking findings": 2}
    assert "not recorded: 2 answers with breaking findings" in to_markdown(report)
    assert any("not recorded: 2" in line for line, _ in summary_lines(report))


def test_recordings_replay_each_request_its_own_answer_headers_included(tmp_path: Path) -> None:
    """The async-header probe shares its body with a case; replay still tells them apart."""
    run, _ = live_run(tmp_path, record=True, examples=20, max_billed=20)
    run.execute()
    recorded = {i.name: i for i in load_fixtures(tmp_path, CONTRACTS)}
    case, probe = recorded["live-case-documented-1-1"], recorded["live-probe-async-header"]
    assert case.request.body == probe.request.body
    serve = replay_handler(recorded.values())
    for interaction in recorded.values():
        request = interaction.request
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        auth = request.headers.get("authorization")
        if auth is not None:
            headers["authorization"] = "Bearer sk-invalid" if "invalid" in auth else f"Bearer {KEY}"
        content = (
            request.body_text.encode()
            if request.body_text is not None
            else json.dumps(request.body).encode()
        )
        replayed = serve(httpx.Request("POST", "http://replay", headers=headers, content=content))
        assert replayed.status_code == interaction.response.status, interaction.name
        assert json.loads(replayed.content) == interaction.response.body, interaction.name


def test_a_base_url_with_credentials_is_refused_without_showing_them(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="carries credentials") as raised:
        live_run(tmp_path, base_url="http://user:hunter2@127.0.0.1:9/api/v1")
    assert "hunter2" not in str(raised.value)


def test_the_report_of_a_run_not_yet_started_draws_no_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin writes a "not finished" report at configure, before any request: drawing the
    examples then would run Hypothesis inside pytest's start-up (a HypothesisSideeffectWarning,
    an error under -W error) and give up the overlap of drawing with sending."""
    import facedetect_contract.live.run as live_module

    def no_drawing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("examples drawn for a report of a run with no verdict")

    monkeypatch.setattr(live_module, "generated_requests", no_drawing)
    run, _fake = live_run(tmp_path)
    report = LiveReport.from_run(run, observe_questions=False)
    assert report.requests == () and report.findings == ()


def test_a_paced_run_over_http_counts_each_request_from_when_it_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a real socket, every attempt of a paced run tells the pacer when its last byte was
    written (after its start), so a slow connection cannot crowd the next second."""
    from facedetect_contract.contracts.fixtures import IMAGE_DIR
    from facedetect_contract.core.pacing import Pacer
    from facedetect_contract.doubles.server import serve_in_thread

    told: list[int] = []
    sent = Pacer.sent

    def spy(self: Pacer, slot: int) -> None:
        told.append(slot)
        sent(self, slot)

    monkeypatch.setattr(Pacer, "sent", spy)
    with serve_in_thread(api_keys=[KEY], images_dir=IMAGE_DIR) as stub:
        run = LiveRun(
            LiveSettings(qps=1000, examples=0, record_dir=tmp_path, base_url=stub.base_url),
            (LiveCase("portrait", stub.image_url("portrait.png"), "1:1", "pass"),),
            environ={"DASHSCOPE_API_KEY": KEY},
        )
        run.execute(["probe-no-key", "probe-bad-key", "case-portrait"])
        run.close()
    assert {v.status for v in run.verdicts.values()} == {"judged"}
    assert len(run.verdicts) == 3
    assert set(told) == {0, 1, 2}  # each of the three attempts, once or more (one per write)


@pytest.mark.parametrize(
    ("failure", "status", "says"),
    [
        (httpx.ReadTimeout, "timed-out", "no answer before the run's deadline (1 s"),
        (httpx.ConnectError, "unreachable", "endpoint unreachable: the connection was refused"),
    ],
    ids=["timeout", "refusal"],
)
def test_a_failure_past_the_runs_deadline_is_its_deadline_only_when_it_timed_out(
    tmp_path: Path, failure: type[Exception], status: str, says: str
) -> None:
    """Both fail once the run's deadline has passed: a timeout was the deadline cutting the
    request off; a refusal keeps its own cause."""
    now = [0.0]

    def fail(request: httpx.Request) -> httpx.Response:
        now[0] = 5.0  # the attempt ends past the run's deadline
        raise failure("boom", request=request)

    run = LiveRun(
        LiveSettings(qps=0, examples=0, record_dir=tmp_path, deadline=1.0),
        load_cases(DEFAULT_CASES_FILE, CONTRACTS),
        environ={"DASHSCOPE_API_KEY": KEY},
        transport=httpx.MockTransport(fail),
        sleep=lambda _seconds: None,
        clock=lambda: now[0],
    )
    run.execute(["probe-no-key"])
    verdict = run.verdicts["probe-no-key"]
    assert verdict.status == status
    assert says in (verdict.reason or ""), verdict.reason


def test_the_seconds_left_count_down_to_the_runs_deadline_and_stop_at_zero(
    tmp_path: Path,
) -> None:
    now = [100.0]
    fake = FaceDetectFake(api_keys={KEY})
    run = LiveRun(
        LiveSettings(qps=0, examples=0, record_dir=tmp_path, deadline=30),
        load_cases(DEFAULT_CASES_FILE, CONTRACTS),
        environ={"DASHSCOPE_API_KEY": KEY},
        transport=httpx.MockTransport(fake_handler(fake)),
        clock=lambda: now[0],
    )
    assert run.seconds_left() == 30  # not started: the whole deadline
    run.execute()
    now[0] += 12
    assert run.seconds_left() == pytest.approx(18)
    now[0] += 60
    assert run.seconds_left() == 0
    run.close()


def test_requests_the_runs_deadline_left_unsent_are_one_error_of_the_run_naming_them(
    tmp_path: Path,
) -> None:
    ticks = iter(range(0, 10**6, 1000))  # every look at the clock is 1000 s later
    fake = FaceDetectFake(api_keys={KEY})
    run = LiveRun(
        LiveSettings(qps=0, examples=0, record_dir=tmp_path, deadline=30),
        load_cases(DEFAULT_CASES_FILE, CONTRACTS),
        environ={"DASHSCOPE_API_KEY": KEY},
        transport=httpx.MockTransport(fake_handler(fake)),
        clock=lambda: float(next(ticks)),
    )
    run.execute()
    run.close()
    unsent = [n for n, v in run.verdicts.items() if v.reason.startswith("not sent: the run's")]
    assert unsent
    (error,) = [e for e in run.all_errors if "passed first" in e]
    assert not error.request  # an error of the run as a whole
    assert error.cause.startswith(f"{len(unsent)} request(s) not sent: the run's deadline (30 s")
