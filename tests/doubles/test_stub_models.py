"""One stub serving several models: each request is answered by the fake of the model its body
names, in that model's own shape and at that model's own path; a model none of them serves gets
the error the contracts document for an unknown model (the first chosen model's rejection).

The packaged folders are found by their profiles (a new folder is covered with no code); the
documented fixtures of each (``fixtures/<folder>/``) are replayed against the one stub.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.contracts.fixtures import fixture_dir, load_fixtures
from facedetect_contract.contracts.loader import Contracts, load_contracts, packaged_models
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.contracts.profile import PROFILE_FILE
from facedetect_contract.core.interaction import RecordedResponse
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.server import StubOptions, StubServer, serve_in_thread

KEY = "sk-stub-models-test-key"
MODELS = [load_contracts(folder) for folder in packaged_models().values()]


def headers(contracts: Contracts) -> dict[str, str]:
    return {"content-type": contracts.profile.content_type, "authorization": f"Bearer {KEY}"}


def request_body(contracts: Contracts, url: str, model: str | None = None) -> dict[str, Any]:
    profile, body = contracts.profile, dict[str, Any]()
    profile.request.model.put(body, model or profile.model)
    profile.request.image_url.put(body, url)
    if profile.ratio is not None:
        profile.ratio.field.put(body, profile.ratio.values[0])
    return body


def recorded(response: httpx.Response) -> RecordedResponse:
    return RecordedResponse(response.status_code, dict(response.headers), response.json())


def test_there_are_several_packaged_models() -> None:
    assert len(MODELS) >= 4, [c.profile.model for c in MODELS]


def test_one_stub_answers_each_models_documented_requests_in_its_own_shape() -> None:
    """Every documented check result of every model, sent to the one stub serving them all,
    is answered by that model's fake: the same kind, status and shape its fixture documents,
    read through that model's own contracts (another model's shape would not classify so)."""
    replayed: dict[str, int] = {}
    with serve_in_thread(api_keys=[KEY], catalog=True, contracts=MODELS) as stub:
        assert sorted(stub.fakes) == sorted(c.profile.model for c in MODELS)
        with httpx.Client(trust_env=False, timeout=10) as client:
            for contracts in MODELS:
                model = contracts.profile.model
                fake = stub.fakes[model]
                for interaction in load_fixtures(fixture_dir(contracts), contracts):
                    documented = classify(interaction.response, contracts)
                    if not documented.is_check_result:
                        continue
                    if documented.shape not in (None, fake.failure_shape):
                        continue  # another reading of the failure shape than the stub plays
                    before = fake.requests
                    response = client.post(
                        stub.url_of(model),
                        content=json.dumps(interaction.request.body),
                        headers=headers(contracts),
                    )
                    got = classify(recorded(response), contracts)
                    assert (got.kind, got.status, got.shape) == (
                        documented.kind,
                        documented.status,
                        documented.shape,
                    ), (model, interaction.name, response.json())
                    assert fake.requests == before + 1, f"{model}: another model's fake answered"
                    replayed[model] = replayed.get(model, 0) + 1
    assert sorted(replayed) == sorted(c.profile.model for c in MODELS), replayed


def test_each_model_is_answered_by_its_own_fake_and_only_it() -> None:
    """A pass of each model over one stub: its own fake counts it, the others do not, and the
    answer carries the model's verdict field (where it has one)."""
    with (
        serve_in_thread(api_keys=[KEY], catalog=True, contracts=MODELS) as stub,
        httpx.Client(trust_env=False, timeout=10) as client,
    ):
        for contracts in MODELS:
            model = contracts.profile.model
            counts = {name: fake.requests for name, fake in stub.fakes.items()}
            body = request_body(contracts, "https://example.com/anyone.png")
            response = client.post(stub.url_of(model), json=body, headers=headers(contracts))
            assert classify(recorded(response), contracts).kind == "passed", response.json()
            verdict = contracts.profile.verdict
            if verdict is not None:
                assert verdict.present(response.json()), (model, response.json())
            after = {name: fake.requests for name, fake in stub.fakes.items()}
            assert after == {**counts, model: counts[model] + 1}


def unknown_model_answer(contracts: Contracts) -> tuple[int, str, str]:
    """What ``contracts`` document for an unknown model: its ``model-unknown`` rejection, or
    for a model whose profile states none, the fake's documented stand-in from its own table."""
    answer = FaceDetectFake(api_keys=[KEY], contracts=contracts).reject("model-unknown")
    return answer.status, answer.json()["code"], answer.json()["message"]


def without_404(tmp_path: Path, contracts: Contracts) -> Contracts:
    """A copy of ``contracts`` whose table lacks the common page's 404 (ModelNotFound): its
    unknown-model answer is its own stand-in, unlike the others' (the order is then seen)."""
    copy = tmp_path / f"{contracts.directory.name}-no-404"
    shutil.copytree(contracts.directory, copy)
    table = json.loads((copy / "errors.json").read_text())
    table["errors"] = [row for row in table["errors"] if row["status"] != 404]
    (copy / "errors.json").write_text(json.dumps(table))
    return load_contracts(copy)


def test_a_model_none_serves_gets_the_first_models_documented_unknown_model_error(
    tmp_path: Path,
) -> None:
    """The unknown model's error is data: the first chosen model's (whichever model comes
    first, its table answers); face-detect's is its documented ModelNotFound rejection. Every
    packaged model lists the common page's 404 (the platform's answer whatever the model), so
    one of them is served from a copy without it, for the order to show."""
    reference = next(c for c in MODELS if "model-unknown" in c.profile.rejections)
    stated = reference.profile.rejection("model-unknown")
    assert unknown_model_answer(reference)[1:] == (stated.code, stated.message)
    other = next(c for c in MODELS if c is not reference)
    models = [without_404(tmp_path, c) if c is other else c for c in MODELS]
    seen = set()
    for first in models:
        rest = [c for c in models if c is not first]
        with serve_in_thread(api_keys=[KEY], catalog=True, contracts=[first, *rest]) as stub:
            body = request_body(first, "https://example.com/anyone.png", model="no-such-model")
            response = httpx.post(
                stub.url_of(first.profile.model),
                json=body,
                headers=headers(first),
                trust_env=False,
                timeout=10,
            )
        assert classify(recorded(response), first).kind == "request_error", response.json()
        got = (response.status_code, response.json()["code"], response.json()["message"])
        assert got == unknown_model_answer(first), first.profile.model
        seen.add(got)
    assert len(seen) > 1, "every model documents the same answer: the order is not tested"


def test_readings_apply_to_the_models_whose_questions_name_them() -> None:
    """A reading of a question only some models have is played by those, and the others keep
    their defaults (no error for the models without it)."""
    having = [c for c in MODELS if "failure-shape" in c.questions]
    lacking = [c for c in MODELS if "failure-shape" not in c.questions]
    assert having and lacking, "the packaged models no longer differ in failure-shape"
    reading = having[0].questions["failure-shape"].playable[-1].id
    options = StubOptions(
        api_keys=[KEY], catalog=True, contracts=MODELS, readings={"failure-shape": reading}
    )
    with serve_in_thread(options) as stub:
        assert stub.fakes[having[0].profile.model].readings["failure-shape"] == reading
        for contracts in lacking:
            assert "failure-shape" not in stub.fakes[contracts.profile.model].readings
    with pytest.raises(ValueError, match="no open question 'nope'"):
        StubServer(("127.0.0.1", 0), api_keys=[KEY], contracts=MODELS, readings={"nope": "x"})


def test_a_model_on_another_path_is_served_at_its_own_path(tmp_path: Path) -> None:
    """A copy of a model moved to another path (data only): served there beside the others at
    the shared path; at the shared path its name is an unknown model (nothing there serves it)."""
    source = next(c for c in MODELS if c.profile.model != MODELS[0].profile.model)
    folder = tmp_path / source.directory.name
    shutil.copytree(source.directory, folder)
    profile = json.loads((folder / PROFILE_FILE).read_text(encoding="utf-8"))
    moved = profile["endpoint"]["path"] + "-elsewhere"
    profile["endpoint"]["path"] = moved
    (folder / PROFILE_FILE).write_text(json.dumps(profile), encoding="utf-8")
    elsewhere = load_contracts(folder)
    with serve_in_thread(api_keys=[KEY], catalog=True, contracts=[MODELS[0], elsewhere]) as stub:
        model = elsewhere.profile.model
        assert stub.url_of(model).endswith(moved)
        body = request_body(elsewhere, "https://example.com/anyone.png")
        with httpx.Client(trust_env=False, timeout=10) as client:
            there = client.post(stub.url_of(model), json=body, headers=headers(elsewhere))
            shared = client.post(stub.url, json=body, headers=headers(elsewhere))
    assert classify(recorded(there), elsewhere).kind == "passed", there.json()
    assert classify(recorded(shared), MODELS[0]).kind == "request_error", shared.json()
    got = (shared.status_code, shared.json()["code"], shared.json()["message"])
    assert got == unknown_model_answer(MODELS[0])
