"""One live run guarding every packaged model on the path (``live.models``, ``session``): one
run per model side by side against one stub serving them all, one budget, one deadline, one
report whose names say the model (``<model>/<name>``) and whose ``models`` give each model's
outcome and spend; a breaking drift of one model fails the run naming that model only.

Unpaced here (``--live-qps 0``): the pacing of each model at its own documented rate is judged
end to end in the slow tier (``test_each_model_is_paced_at_its_own_documented_rate``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.cases import CasesFileError, load_cases_of_models
from facedetect_contract.contracts.loader import Contracts, load_contracts, packaged_models
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from facedetect_contract.live.models import ModelsRun, qualified, split_qualified
from facedetect_contract.report import LiveReport
from facedetect_contract.session import LiveSession, SessionError, live_settings

MODELS = [load_contracts(folder) for folder in packaged_models().values()]
KEY = "sk-several-models-" + "ab12" * 6


def env() -> dict[str, str]:
    return {contracts.profile.api_key_env: KEY for contracts in MODELS}


class Seen:
    """What the stub was asked, by the model each request's body names (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = {}

    def __call__(self, request: FakeRequest, response: FakeResponse) -> FakeResponse:
        try:
            model = json.loads(request.body).get("model")
        except (ValueError, AttributeError):
            model = None
        with self.lock:
            self.arrivals.setdefault(str(model), []).append(time.monotonic())
        return response


@pytest.fixture
def stub() -> Iterator[RunningServer]:
    with serve_in_thread(api_keys=[KEY], contracts=MODELS) as running:
        yield running


def session(
    tmp_path: Path, base_url: str, *, models: list[Contracts] | None = None, **options: Any
) -> LiveSession:
    chosen = MODELS if models is None else models
    values = {"facedetect_live_qps": 0, "facedetect_live_examples": 2, **options}
    settings = live_settings(
        values, base_url=base_url, here=tmp_path, record_dir=tmp_path / "rec", models=len(chosen)
    )
    return LiveSession(settings, contracts=chosen, environ=env())


def run_through(live: LiveSession) -> LiveReport:
    live.start()
    live.run()
    return live.finish()


def test_one_run_guards_every_model_and_its_report_is_grouped_by_model(
    tmp_path: Path, stub: RunningServer
) -> None:
    live = session(tmp_path, f"{stub.origin}/api/v1", facedetect_reports=["r.json"])
    report = run_through(live)
    assert report.outcome == "passed", report.why_not_passed()
    assert live.exit_status == 0
    assert report.models == tuple(c.profile.model for c in MODELS)
    data = json.loads((tmp_path / "r.json").read_text())
    assert [m["model"] for m in data["models"]] == list(report.models)
    assert all(m["outcome"] == "passed" and m["judged"] > 0 for m in data["models"]), data["models"]
    # every request is one model's, named after it, and sent with that model in its body
    for row in data["requests"]:
        model, _ = split_qualified(row["name"])
        assert row["model"] == model
    for contracts in MODELS:
        model = contracts.profile.model
        own = [r for r in data["requests"] if r["model"] == model]
        assert own and any(r["kind"] == "case" for r in own), model
    # one budget: the run's spend is the sum of the models', each kept
    spend = data["spend"]
    assert set(spend["by_model"]) == set(report.models)
    assert spend["images_billed"] == sum(s["images_billed"] for s in spend["by_model"].values())
    assert spend["max_billed"] == 4 * len(MODELS)  # not given: the default for each model
    assert f"to {len(MODELS)} models" in report.headline()
    # what an observation rests on names its model's requests, as the findings do
    evidence = [e for o in report.observations for e in o.evidence if "live-" in e]
    assert evidence and all(split_qualified(e)[0] in report.models for e in evidence), evidence


def renaming_the_verdict_of(model: str, contracts: Contracts) -> Any:
    """A stub hook that drifts one model: the field that says its check passed renamed in
    every answer to it (its verdict; for a model without one, its first box, which is its
    pass)."""
    verdict = contracts.profile.verdict or contracts.profile.response.boxes[0]
    name, parent = verdict.name, verdict.parent

    def hook(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        try:
            sent = json.loads(request.body).get("model")
            body = response.json()
        except (ValueError, AttributeError):
            return response
        if sent != model or not verdict.present(body):
            return response
        holder = parent.get(body)
        holder[f"{name}_renamed"] = holder.pop(name)
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())

    return hook


@pytest.mark.parametrize("drifting", [c.profile.model for c in MODELS])
def test_a_breaking_drift_of_one_model_fails_the_run_naming_that_model_only(
    tmp_path: Path, drifting: str
) -> None:
    contracts = next(c for c in MODELS if c.profile.model == drifting)
    hook = renaming_the_verdict_of(drifting, contracts)
    with serve_in_thread(api_keys=[KEY], contracts=MODELS, response_hook=hook) as stub:
        report = run_through(session(tmp_path, f"{stub.origin}/api/v1"))
    assert report.outcome == "drift"
    assert report.exit_status == 1
    assert report.failing_models() == (drifting,)
    assert drifting in report.why_not_passed()
    failing = report.failing()
    assert failing and all(v.interaction.startswith(f"{drifting}/") for v in failing), failing
    for part in report.parts:
        assert (part.outcome == "drift") == (part.model == drifting), part.headline()


def test_the_models_share_one_budget_and_each_reports_its_own_spend(
    tmp_path: Path, stub: RunningServer
) -> None:
    """``--max-billed 3`` is the run's, across its models: never more billable attempts in all,
    the rest not sent for the budget and said so (by model), never silently."""
    report = run_through(session(tmp_path, f"{stub.origin}/api/v1", facedetect_max_billed=3))
    spend = report.spend
    assert spend.max_billed == 3
    assert spend.billable_sent <= 3
    assert sum(s.billable_sent for _, s in spend.by_model) == spend.billable_sent
    assert spend.not_sent, "four models' cases do not fit 3 billable attempts"
    assert all(split_qualified(name)[0] in report.models for name in spend.not_sent)
    assert all(s.max_billed == 3 for _, s in spend.by_model)
    skipped = [r for r in report.requests if r["outcome"] == "not-sent"]
    assert skipped and all("--max-billed 3" in r["note"] for r in skipped), skipped


def test_one_model_cannot_spend_the_budget_before_anothers_first_case(
    tmp_path: Path, stub: RunningServer
) -> None:
    """``--max-billed`` as many as the models: each model's first billable case is sent,
    however fast the others' go (one slot is kept for each model still without one)."""
    report = run_through(
        session(tmp_path, f"{stub.origin}/api/v1", facedetect_max_billed=len(MODELS))
    )
    sent = {model: spend.billable_sent for model, spend in report.spend.by_model}
    assert all(count >= 1 for count in sent.values()), sent
    assert sum(sent.values()) <= len(MODELS)


def test_a_model_chosen_twice_is_a_usage_error(tmp_path: Path) -> None:
    twice = tmp_path / "again"
    import shutil

    shutil.copytree(MODELS[0].directory, twice)
    with pytest.raises(SessionError, match="chosen twice"):
        session(tmp_path, "http://127.0.0.1:9/api/v1", models=[MODELS[0], load_contracts(twice)])


def test_a_cases_file_of_several_models_names_each_entrys_model(tmp_path: Path) -> None:
    emo, other = MODELS[0], MODELS[1]
    path = tmp_path / "cases.json"

    def write(entries: list[dict[str, Any]]) -> None:
        path.write_text(json.dumps(entries))

    def entry(contracts: Contracts, name: str) -> dict[str, Any]:
        body = contracts.profile.valid_request("https://e.example/p.png")
        found = {"name": name, "model": contracts.profile.model, "expect": "any"}
        found[contracts.profile.request.image_url.name] = "https://e.example/p.png"
        if contracts.profile.ratio is not None:
            found[contracts.profile.ratio.field.name] = contracts.profile.ratio.field.get(body)
        return found

    write([entry(emo, "one"), entry(other, "two"), entry(other, "one")])
    cases = load_cases_of_models(path, [emo, other])
    assert [c.slug for c in cases[emo.profile.model]] == ["one"]
    assert [c.slug for c in cases[other.profile.model]] == ["two", "one"]  # ids per model
    write([entry(emo, "one")])
    with pytest.raises(CasesFileError, match=f"no entry names model '{other.profile.model}'"):
        load_cases_of_models(path, [emo, other])
    write([{**entry(emo, "one"), "model": "nope"}, entry(other, "two")])
    with pytest.raises(CasesFileError, match=r"entry 0 \('one'\): field 'model' is \"nope\""):
        load_cases_of_models(path, [emo, other])


def test_qualified_names_split_back_and_refuse_a_name_of_no_model() -> None:
    assert split_qualified(qualified("wan2.2-s2v-detect", "case-x")) == (
        "wan2.2-s2v-detect",
        "case-x",
    )
    for bad in ("case-x", "/case-x", "model/"):
        with pytest.raises(KeyError):
            split_qualified(bad)


def test_a_request_of_a_model_the_run_lacks_is_refused_naming_the_models(
    tmp_path: Path,
) -> None:
    live = session(tmp_path, "http://127.0.0.1:9/api/v1", models=MODELS[:2])
    assert isinstance(live.live_run, ModelsRun)
    with pytest.raises(KeyError, match="no model 'nope'") as refused:
        live.live_run.execute(["nope/case-x"])
    assert all(c.profile.model in str(refused.value) for c in MODELS[:2]), refused.value
    live.close()


@pytest.mark.outside
def test_each_model_is_paced_at_its_own_documented_rate(tmp_path: Path) -> None:
    """Side by side, each model's requests arrive no faster than its own documented rate (a
    1-per-second model beside 5-per-second ones), and the run takes about the slowest
    model's time, not the sum."""
    seen = Seen()
    with serve_in_thread(api_keys=[KEY], contracts=MODELS, response_hook=seen) as stub:
        live = session(
            tmp_path, f"{stub.origin}/api/v1", facedetect_live_qps=None, facedetect_live_examples=0
        )
        started = time.monotonic()
        run_through(live)
        took = time.monotonic() - started
    floors = {}
    for contracts in MODELS:
        model = contracts.profile.model
        times = sorted(seen.arrivals.get(model, []))
        assert len(times) >= 3, (model, seen.arrivals.keys())
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # a window of qps+1 requests spans at least a second (the documented rate per second)
        qps = contracts.profile.qps
        window = int(qps) + 1
        spans = [times[i + window - 1] - times[i] for i in range(len(times) - window + 1)]
        assert all(span >= 0.95 for span in spans), (model, qps, gaps)
        floors[model] = len(times) / qps
    assert took < sum(floors.values()), (took, floors)  # side by side, not one after another


@pytest.mark.outside
def test_run_live_with_every_model_against_serve_of_every_model_passes(tmp_path: Path) -> None:
    """End to end, two processes, the pytest path: ``serve --model`` each packaged model, and
    ``run --live --model`` each at it: every live test passes under its model's id, the report
    gives each model's outcome, and each model was paced at its own rate (no 429)."""
    import os
    import re

    from tests.helpers.processes import run_command, serving

    words = [word for c in MODELS for word in ("--model", c.profile.model)]
    environ = {**os.environ, **env()}
    environ.pop("DASHSCOPE_HTTP_BASE_URL", None)
    with serving(words, cwd=tmp_path, env=environ) as base_url:
        options = ["--base-url", base_url, "--live-examples", "3", "--drift-report", "r.json"]
        run = run_command(
            ["run", "--live", *words, *options, "-v", "test_live.py"],
            cwd=tmp_path,
            env=environ,
            timeout=600,
        )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    assert "face-detect live mode: " + ", ".join(c.profile.model for c in MODELS) in run.stdout
    for contracts in MODELS:
        model = contracts.profile.model
        assert re.search(rf"test_a_live_case\S*\[{re.escape(model)}/\S+\] PASSED", run.stdout)
        assert re.search(
            rf"test_a_free_negative_probe\S*\[{re.escape(model)}/\S+\] PASSED", run.stdout
        )
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outcome"] == "passed"
    assert [m["outcome"] for m in report["models"]] == ["passed"] * len(MODELS)
    assert report["counts"]["throttled"] == 0


def test_a_baseline_acknowledges_one_models_finding_and_not_anothers(tmp_path: Path) -> None:
    """``--update-baseline`` in a run of several models writes entries naming their model's
    requests; the next run passes with them, and an entry of one model acknowledges nothing of
    another (the same check at the same place on another model still fails)."""
    drifting = next(c for c in MODELS if c.profile.verdict is not None)  # any model would do
    model = drifting.profile.model
    hook = renaming_the_verdict_of(model, drifting)
    baseline = tmp_path / "baseline.json"
    with serve_in_thread(api_keys=[KEY], contracts=MODELS, response_hook=hook) as stub:
        base = f"{stub.origin}/api/v1"
        first = run_through(
            session(
                tmp_path,
                base,
                facedetect_baseline="baseline.json",
                facedetect_update_baseline=True,
            )
        )
        assert first.failing_models() == (model,)
        entries = json.loads(baseline.read_text())["entries"]
        assert entries and all(e["interaction"].startswith(f"{model}/") for e in entries)
        again = session(tmp_path, base, facedetect_baseline="baseline.json")
        second = run_through(again)
    assert second.outcome in ("passed", "passed with warnings"), second.why_not_passed()
    assert second.known() and not second.failing()
    # each request's own verdict (what a live test fails by) is acknowledged too
    for name in again.planned_names()["case"]:
        verdict = again.live_run.verdict(name)
        assert verdict.message is None, (name, verdict.message)
    # the same entries, their model's name changed to another's: they acknowledge nothing there
    other = next(c.profile.model for c in MODELS if c.profile.model != model)
    moved = [
        {key: value for key, value in e.items() if key != "id"}
        | {"interaction": other + e["interaction"][len(model) :]}
        for e in entries
    ]
    baseline.write_text(json.dumps({**json.loads(baseline.read_text()), "entries": moved}))
    with serve_in_thread(api_keys=[KEY], contracts=MODELS, response_hook=hook) as stub:
        third = run_through(
            session(tmp_path, f"{stub.origin}/api/v1", facedetect_baseline="baseline.json")
        )
    assert third.failing_models() == (model,) and not third.known()


def test_recordings_of_several_models_go_to_one_folder_per_model(
    tmp_path: Path, stub: RunningServer
) -> None:
    """``--record --record-dir DIR``: each model's answers in ``DIR/<its contracts folder>``,
    each readable as that model's fixtures (never one model's beside another's)."""
    from facedetect_contract.contracts.fixtures import load_fixtures
    from facedetect_contract.session import record_dirs_of

    # record_dir_of not given: the settings' record_dir / the model's contracts folder
    report = run_through(session(tmp_path, f"{stub.origin}/api/v1", facedetect_record=True))
    assert report.recorded
    for contracts in MODELS:
        folder = tmp_path / "rec" / contracts.directory.name
        found = load_fixtures(folder, contracts)
        assert found, contracts.profile.model
        sent = {str(contracts.profile.request.model.get(i.request.body)) for i in found}
        others = {c.profile.model for c in MODELS} - {contracts.profile.model}
        assert contracts.profile.model in sent and not sent & others, sent  # probes: their own
    assert (
        record_dirs_of(tmp_path, "mine")(MODELS[1]) == tmp_path / "mine" / MODELS[1].directory.name
    )


@pytest.mark.outside
def test_an_interrupted_run_of_several_models_says_interrupted_never_passed(
    tmp_path: Path,
) -> None:
    """Ctrl-C while the models' runs are sending: the process exits 2, its report says
    "interrupted" for the run (never "passed"), and no traceback is shown."""
    import os
    import signal
    import subprocess
    import sys

    from tests.helpers.processes import default_sigint

    seen = Seen()
    words = [word for c in MODELS for word in ("--model", c.profile.model)]
    environ = {**os.environ, **env()}
    environ.pop("DASHSCOPE_HTTP_BASE_URL", None)
    with serve_in_thread(
        api_keys=[KEY], contracts=MODELS, response_hook=seen, latency_ms=300
    ) as stub:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "facedetect_contract",
                "live",
                *words,
                "--base-url",
                f"{stub.origin}/api/v1",
                "--drift-report",
                "r.json",
            ],
            cwd=tmp_path,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_sigint,  # noqa: PLW1509  # the child's own default action
        )
        ends = time.monotonic() + 60
        while sum(len(t) for t in seen.arrivals.values()) < 4 and time.monotonic() < ends:
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    assert child.returncode == 2, out + err
    assert "Traceback" not in out + err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outcome"] == "interrupted", report["why_not_passed"]
    assert report["exit_status"] == 1


@pytest.mark.parametrize("fails", ["once", "always"])
@pytest.mark.parametrize("several", [False, True], ids=["one-model", "several-models"])
def test_a_report_that_cannot_be_made_is_an_error_of_the_run_never_passed(
    tmp_path: Path, stub: RunningServer, monkeypatch: pytest.MonkeyPatch, fails: str, several: bool
) -> None:
    """The suite's own fault while making the report: the run's report says the error (the
    plainest report: without the questions, else the errors alone), the JSON is written, and
    the exit status is 1."""
    made = LiveReport.from_result
    calls = []

    def broken(cls: type[LiveReport], result: Any, /, **options: Any) -> LiveReport:
        calls.append(result)
        if fails == "always" or len(calls) == 1:
            raise RuntimeError("planted fault of the suite")
        return made(result, **options)

    models = MODELS if several else MODELS[:1]
    live = session(tmp_path, f"{stub.origin}/api/v1", models=models)
    live.start()
    live.run()
    monkeypatch.setattr(LiveReport, "from_result", classmethod(broken))
    report = live.finish()
    assert report.outcome == "error" and live.exit_status == 1, report.headline()
    said = [str(error) for error in report.errors]
    assert any("the report could not be made (RuntimeError: planted fault" in e for e in said)
    if fails == "always":
        assert any("could not be made either" in e for e in said), said
        assert report.requests == () and report.spend.max_billed == 4 * len(models)
        assert [m for m, _ in report.spend.by_model] == ([] if len(models) == 1 else
                                                         [c.profile.model for c in models])  # fmt: skip


def test_a_model_that_judged_nothing_keeps_the_run_of_several_from_passing(
    tmp_path: Path,
) -> None:
    """One model's every answer broken (an HTML page): the others pass, and the run does not:
    its outcome is that model's ("not judged"), its exit status 1, the model named."""
    broken_model = MODELS[1].profile.model

    def broken(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        try:
            sent = json.loads(request.body).get("model")
        except (ValueError, AttributeError):
            return response
        if sent != broken_model:
            return response
        return FakeResponse(502, {"content-type": "text/html"}, b"<html>bad gateway</html>")

    with serve_in_thread(api_keys=[KEY], contracts=MODELS, response_hook=broken) as stub:
        report = run_through(session(tmp_path, f"{stub.origin}/api/v1"))
    own = {part.model: part.outcome for part in report.parts}
    assert own[broken_model] not in ("passed", "passed with warnings"), own
    assert all(o == "passed" for m, o in own.items() if m != broken_model), own
    assert report.exit_status == 1 and report.failing_models() == (broken_model,)
    assert broken_model in report.why_not_passed(), report.why_not_passed()
    assert not report.headline().startswith("passed")


def test_a_model_no_test_asked_anything_of_does_not_fail_the_run(tmp_path: Path) -> None:
    """pytest -k selecting one model's tests: the other models sent nothing because nothing was
    asked of them, and the run passes on what was asked."""
    with serve_in_thread(api_keys=[KEY], contracts=MODELS) as stub:
        live = session(tmp_path, f"{stub.origin}/api/v1", models=MODELS[:2])
        asked = [
            n for n in live.planned_names()["case"] if n.startswith(f"{MODELS[0].profile.model}/")
        ]
        live.start()
        live.run(asked)
        report = live.finish()
    assert [part.selected for part in report.parts] == [len(asked), 0]
    assert report.outcome == "passed" and report.failing_models() == ()


def test_a_report_inside_any_models_recordings_folder_is_refused(tmp_path: Path) -> None:
    """Each model has its own recordings' folder: a report written into the second model's is
    a usage error before anything is sent, as one into the first's is."""
    folder = MODELS[1].directory.name
    settings = live_settings(
        {"facedetect_reports": [f"rec-{folder}/report.json"]},
        base_url="http://127.0.0.1:9/api/v1",
        here=tmp_path,
        record_dir=tmp_path / "rec",
        models=2,
    )
    with pytest.raises(SessionError, match="record folder"):
        LiveSession(
            settings,
            contracts=MODELS[:2],
            environ=env(),
            record_dir_of=lambda contracts: tmp_path / f"rec-{contracts.directory.name}",
        )


def test_every_models_key_is_redacted_where_the_models_read_different_variables(
    tmp_path: Path,
) -> None:
    """Two models whose profiles name different key variables: whatever the run shows (a
    test's reason, the summary, the reports) passes a redactor of both keys."""
    import shutil

    copy = tmp_path / "other-key"
    shutil.copytree(MODELS[1].directory, copy)
    profile = json.loads((copy / "endpoint.json").read_text())
    profile["endpoint"]["api_key_env"] = "OTHER_MODEL_KEY"
    (copy / "endpoint.json").write_text(json.dumps(profile))
    other = load_contracts(copy)
    second = "sk-second-model-" + "9f8e" * 6
    settings = live_settings(
        {},
        base_url="http://127.0.0.1:9/api/v1",
        here=tmp_path,
        record_dir=tmp_path / "rec",
        models=2,
    )
    live = LiveSession(
        settings,
        contracts=[MODELS[0], other],
        environ={MODELS[0].profile.api_key_env: KEY, "OTHER_MODEL_KEY": second},
    )
    shown = live.redact(f"first {KEY} second {second}")
    assert KEY not in shown and second not in shown, shown
    assert live.live_run.redact(f"{second}") != second
    live.close()
