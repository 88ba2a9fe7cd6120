"""The doubles answer every model in its own shape, held to that model's own contracts.

One loop over the contracts folders under ``contracts/`` (a new folder is covered with no code):
for each, the fake gets the properties face-detect's suite holds it to (tests/contract/
test_requests.py: a valid generated request gets an answer its contracts accept that is a check
result; an invalid one a documented error, never billed), replays the model's documented fixtures
(each request gets an answer of the documented kind), answers a named failure in the model's
failure kind, never sends a field the model's profile does not have, and the stub serves the
model at its profile's path over HTTP in the same shape.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from facedetect_contract.checks import run_checks
from facedetect_contract.contracts.fixtures import fixture_dir, load_fixtures
from facedetect_contract.contracts.loader import ContractFileError, Contracts, load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import RecordedResponse
from facedetect_contract.doubles.fake import (
    CatalogImages,
    FaceDetectFake,
    FakeRequest,
    FakeResponse,
    Image,
    documented_failure,
    image_names,
    named_failure,
)
from facedetect_contract.doubles.offline import InProcessExchange
from facedetect_contract.doubles.server import serve_in_thread
from facedetect_contract.generation.strategies import invalid_requests, valid_requests
from tests.helpers.another_path import MODEL, PATH, write_portrait_detect
from tests.helpers.models import FOLDERS

KEY = "sk-fake-models-test-key"
IDS = [folder.name for folder in FOLDERS]
VALID = functools.cache(valid_requests)
INVALID = functools.cache(invalid_requests)
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def contracts_of(folder: Path) -> Contracts:
    return load_contracts(folder)


def headers(contracts: Contracts) -> dict[str, str]:
    return {"content-type": contracts.profile.content_type, "authorization": f"Bearer {KEY}"}


def request_body(contracts: Contracts, url: str) -> dict[str, Any]:
    """A valid request for the model (the profile's own: a ratio only where it has one)."""
    return contracts.profile.valid_request(url)


def ask(fake: FaceDetectFake, body: Any, contracts: Contracts) -> FakeResponse:
    return fake(FakeRequest("POST", headers(contracts), json.dumps(body).encode()))


def recorded(response: FakeResponse) -> RecordedResponse:
    return RecordedResponse(response.status, dict(response.headers), response.json())


def fields_of(body: Any, at: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every path of a JSON object's fields."""
    if not isinstance(body, dict):
        return set()
    found = set()
    for name, value in body.items():
        found.add((*at, name))
        found |= fields_of(value, (*at, name))
    return found


@pytest.fixture(scope="module", params=FOLDERS, ids=IDS)
def model_contracts(request: pytest.FixtureRequest) -> Contracts:
    folder: Path = request.param
    return contracts_of(folder)


@pytest.fixture(scope="module")
def model_fake(model_contracts: Contracts) -> FaceDetectFake:
    return FaceDetectFake(api_keys={KEY}, contracts=model_contracts)


def test_every_contracts_folder_is_covered() -> None:
    """The loop finds the packaged models (a new folder joins it by existing)."""
    assert {"face-detect", "liveportrait-detect", "emoji-detect-v1"} <= set(IDS)


@EXAMPLES
@given(data=st.data())
def test_a_valid_request_gets_a_check_result_its_own_contracts_accept(
    model_contracts: Contracts, model_fake: FaceDetectFake, data: st.DataObject
) -> None:
    request = data.draw(VALID(model_contracts), label="request")
    note(f"request body: {request.body!r}")
    interaction = request.send(InProcessExchange(model_fake, KEY, model_contracts), retry=False)
    violations = run_checks(interaction, model_contracts)
    assert not violations, "\n\n".join(map(str, violations)) + f"\n{interaction.response.body!r}"
    outcome = classify(interaction.response, model_contracts)
    # A check result; or a 400 the image's URL asks for: its extension no format the model
    # takes (offline a URL's extension is its format), or a name of the names table's rules.
    url = model_contracts.profile.request.image_url.get(request.body)
    extension = urlsplit(str(url)).path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    asked = extension not in model_contracts.profile.image_formats or (
        (row := named_failure(str(url), model_contracts)) is not None and row.rule is not None
    )
    assert outcome.is_check_result or (interaction.response.status == 400 and asked), (
        outcome,
        url,
    )


@EXAMPLES
@given(data=st.data())
def test_an_invalid_request_gets_a_documented_error_and_is_never_billed(
    model_contracts: Contracts, model_fake: FaceDetectFake, data: st.DataObject
) -> None:
    request = data.draw(INVALID(model_contracts), label="request")
    note(f"mutation: {request.description}; expectation: {request.expectation}")
    billed = model_fake.billed
    interaction = request.send(InProcessExchange(model_fake, KEY, model_contracts), retry=False)
    violations = run_checks(interaction, model_contracts)
    assert not violations, "\n\n".join(map(str, violations)) + f"\n{interaction.response.body!r}"
    assert interaction.response.status < 500
    if request.must_reject:
        assert 400 <= interaction.response.status < 500
        assert model_fake.billed == billed, "a rejected request was billed"


def test_each_documented_check_result_replays_as_documented(
    model_contracts: Contracts, model_fake: FaceDetectFake
) -> None:
    """Each documented fixture whose answer is a check result: its request (the model_fake's key in
    place of the redacted one) gets an answer of the same kind, status and shape, which its
    model_contracts accept; a documented failure its docs show in words is answered in those words."""
    replayed = 0
    for interaction in load_fixtures(fixture_dir(model_contracts), model_contracts):
        documented = classify(interaction.response, model_contracts)
        if not documented.is_check_result:
            continue  # request errors are the errors.json rows, judged by the properties above
        shapes = model_contracts.profile.failure_shapes
        shape = documented.shape if documented.shape in shapes else None
        fake = FaceDetectFake(api_keys={KEY}, contracts=model_contracts, failure_shape=shape)
        answer = ask(fake, interaction.request.body, model_contracts)
        got = classify(recorded(answer), model_contracts)
        assert (got.kind, got.status, got.shape) == (
            documented.kind,
            documented.status,
            documented.shape,
        ), (interaction.name, answer.json())
        if documented.kind == "failed" and not model_contracts.portrait_codes:
            assert (got.code, got.message) == (documented.code, documented.message)
        replayed += 1
    assert replayed, f"no documented check result in {fixture_dir(model_contracts)}"


def test_a_named_failure_is_the_models_failure_kind_with_its_own_words(
    model_contracts: Contracts, model_fake: FaceDetectFake
) -> None:
    """Every name of the names table that fails the check fails it in the model's failure kind
    (its verdict, code and message fields, never another model's), billed as documented."""
    for row in image_names(model_contracts):
        if row.code is None:
            continue
        url = f"https://example.com/{row.name}.png"
        answer = ask(model_fake, request_body(model_contracts, url), model_contracts)
        outcome = classify(recorded(answer), model_contracts)
        assert outcome.kind == "failed", (row.name, answer.json())
        assert outcome.shape == model_fake.failure_shape, (row.name, answer.json())
        assert outcome.billed_images == (1 if answer.status == 200 else 0)
        if row.code in model_contracts.portrait_codes:  # a code of its own error table
            assert outcome.code == row.code
        else:  # the words of a failure its own docs show
            assert (outcome.code, outcome.message) == documented_failure(row.code, model_contracts)


def test_a_pass_has_exactly_the_models_own_fields(
    model_contracts: Contracts, model_fake: FaceDetectFake
) -> None:
    """A pass carries the verdict where the model has one, its boxes (none: none) and nothing
    of another model's shape; the request has no ratio where the model has none."""
    answer = ask(
        model_fake, request_body(model_contracts, "https://example.com/anyone.png"), model_contracts
    )
    body = answer.json()
    profile = model_contracts.profile
    assert classify(recorded(answer), model_contracts).kind == "passed", body
    interaction = InProcessExchange(model_fake, KEY, model_contracts).exchange(
        request_body(model_contracts, "https://example.com/anyone.png")
    )
    assert not run_checks(interaction, model_contracts), interaction.response.body
    if profile.verdict is None:
        assert all(not isinstance(v, bool) for v in body.get("output", {}).values()), body
    else:
        assert profile.verdict.get(body) is True
    for at in profile.boxes.values():
        assert isinstance(at.get(body), list), (str(at), body)
    box_like = {path for path in fields_of(body) if isinstance(_at(body, path), list)}
    assert box_like == {tuple(at.parts) for at in profile.boxes.values()}, body


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        body = body[part]
    return body


def test_a_model_without_a_ratio_is_never_asked_for_one(model_contracts: Contracts) -> None:
    """No ratio: a request without parameters passes (nothing is read, nothing required)."""
    if model_contracts.profile.has_ratio:
        pytest.skip(f"{model_contracts.profile.model} has a ratio parameter")
    model_fake = FaceDetectFake(api_keys={KEY}, contracts=model_contracts)
    body = request_body(model_contracts, "https://example.com/anyone.png")
    assert "parameters" not in json.dumps(body)
    assert (
        classify(recorded(ask(model_fake, body, model_contracts)), model_contracts).kind == "passed"
    )


def test_the_catalogue_draws_sizes_the_model_admits(model_contracts: Contracts) -> None:
    """Sizes drawn for any URL are within the model's sides and aspect ratio."""
    profile, catalog = model_contracts.profile, CatalogImages(model_contracts)
    least = profile.min_side_px if profile.states("min_side_px") else 1
    for index in range(200):
        image = catalog.fetch(f"https://example.com/portraits/{index}.png")
        sides = (image.width, image.height)
        assert least <= min(sides) and max(sides) <= profile.max_side_px
        if profile.max_aspect_ratio is not None:
            assert max(sides) / min(sides) <= profile.max_aspect_ratio


def test_the_stub_serves_the_model_at_its_path_in_its_shape(model_contracts: Contracts) -> None:
    """Over HTTP: the stub of the chosen model_contracts answers a pass and a named failure in the
    model's shape, at the profile's path, and refuses another model's name."""
    with serve_in_thread(api_keys=[KEY], catalog=True, contracts=model_contracts) as stub:
        url = stub.base_url + model_contracts.profile.path
        with httpx.Client(trust_env=False, timeout=10) as client:
            passed = client.post(
                url,
                json=request_body(model_contracts, "https://example.com/anyone.png"),
                headers=headers(model_contracts),
            )
            failed = client.post(
                url,
                json=request_body(model_contracts, "https://example.com/no-human.png"),
                headers=headers(model_contracts),
            )
            other = request_body(model_contracts, "https://example.com/anyone.png")
            model_contracts.profile.request.model.put(other, "not-" + model_contracts.profile.model)
            refused = client.post(url, json=other, headers=headers(model_contracts))
    for response, kind in ((passed, "passed"), (failed, "failed"), (refused, "request_error")):
        answer = RecordedResponse(response.status_code, dict(response.headers), response.json())
        assert classify(answer, model_contracts).kind == kind, response.json()


def test_the_stub_judges_real_pixels_for_every_model(model_contracts: Contracts) -> None:
    """The stub's own images, downloaded and judged by their pixels: a portrait passes and a
    dark picture fails, each in the model's shape (a reason its profile does not state, such as
    too-dark, answered with a failure its docs show)."""
    with serve_in_thread(api_keys=[KEY], contracts=model_contracts) as stub:
        url = stub.base_url + model_contracts.profile.path
        with httpx.Client(trust_env=False, timeout=10) as client:
            kinds = {}
            for name in ("portrait.png", "dark.png"):
                body = request_body(model_contracts, f"{stub.origin}/images/{name}")
                response = client.post(url, json=body, headers=headers(model_contracts))
                answer = RecordedResponse(
                    response.status_code, dict(response.headers), response.json()
                )
                kinds[name] = classify(answer, model_contracts).kind
    assert kinds == {"portrait.png": "passed", "dark.png": "failed"}


@pytest.fixture(scope="module")
def unfailing(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """The made-up model on another path whose docs show a pass and no failed check, and whose
    error table has no portrait code (tests/helpers/another_path.py, ``failure=False``)."""
    folder = write_portrait_detect(tmp_path_factory.mktemp("unfailing"), failure=False)
    contracts = load_contracts(folder)
    assert not contracts.portrait_codes and contracts.profile.model == MODEL
    return contracts


def test_a_model_whose_docs_show_no_failure_is_answered_in_its_own_shape(
    unfailing: Contracts,
) -> None:
    """The fake of a model with no documented failed check is made and answers: a pass in its
    own shape (verdict ``ok``, box ``box``) that its contracts accept, and its documented
    refusal of another model; offline and over HTTP at its own path."""
    fake = FaceDetectFake(api_keys={KEY}, contracts=unfailing)
    body = request_body(unfailing, "https://example.com/anyone.png")
    answer = ask(fake, body, unfailing)
    passed = classify(recorded(answer), unfailing)
    assert (answer.status, passed.kind) == (200, "passed"), answer.json()
    assert set(answer.json()["output"]) == {"ok", "box"}
    interaction = InProcessExchange(fake, KEY, unfailing).exchange(body)
    assert not run_checks(interaction, unfailing), interaction.response.body
    other = {**body, "model": "not-" + MODEL}
    refused = classify(recorded(ask(fake, other, unfailing)), unfailing)
    documented = classify(recorded(fake.reject("model-unknown")), unfailing)
    assert refused.kind == documented.kind == "request_error", refused
    assert refused.code == documented.code and any(unfailing.errors_for(code=refused.code))
    with (
        serve_in_thread(api_keys=[KEY], catalog=True, contracts=unfailing) as stub,
        httpx.Client(trust_env=False, timeout=10) as client,
    ):
        served = client.post(stub.base_url + PATH, json=body, headers=headers(unfailing))
    got = RecordedResponse(served.status_code, dict(served.headers), served.json())
    assert classify(got, unfailing).kind == "passed", served.json()


def test_a_name_asking_a_model_for_a_failure_its_docs_do_not_show_is_told_naming_the_fix(
    unfailing: Contracts,
) -> None:
    """``no-human.png`` asks for a failed check this model cannot answer in its own words: a
    ContractFileError naming the model, the image name and what to add, never ``None``; the
    same for a failure the fake itself would give (a resolution out of the documented range)."""
    fake = FaceDetectFake(api_keys={KEY}, contracts=unfailing)
    with pytest.raises(ContractFileError) as refused:
        ask(fake, request_body(unfailing, "https://example.com/no-human.png"), unfailing)
    text = str(refused.value)
    assert "None" not in text, text
    assert MODEL in text and "'no-human'" in text and "InvalidFile.NoHuman" in text, text
    assert "add" in text and "failed check" in text, text
    with pytest.raises(ContractFileError) as small:
        fake._check(Image(5000, 5000, "png"), None)
    text = str(small.value)
    assert "None" not in text and MODEL in text and "'image-resolution'" in text, text


def test_a_names_table_choosing_a_failure_the_model_lacks_is_refused_when_the_fake_is_made(
    unfailing: Contracts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``image-names.json`` ``/models`` naming a documented failure this model does not have is
    a ContractFileError when the fake is made (not at its first request), naming the model and
    the fixture, never ``None``."""
    from facedetect_contract.doubles import fake as module

    names = {**module._names_data(), "models": {MODEL: {"otherwise": "documented-fail"}}}
    monkeypatch.setattr(module, "_names_data", lambda: names)
    image_names.cache_clear()
    try:
        with pytest.raises(ContractFileError) as refused:
            FaceDetectFake(api_keys={KEY}, contracts=unfailing)
    finally:
        image_names.cache_clear()
        documented_failure.cache_clear()
    text = str(refused.value)
    assert f"at /models/{MODEL}: no documented failed check 'documented-fail'" in text, text
    assert "None" not in text, text
