"""Schemathesis 4.32 fuzzes the stub from the committed OpenAPI document, with every check.

The CLI runs in a subprocess, as ``sys.executable -m schemathesis.cli`` (the venv's
``schemathesis`` script works too; the module needs no bin directory, and the project's pytest
passes ``-p no:schemathesis``). It is given ``--config-file tests/outside/schemathesis.toml``
explicitly, so no stray ``schemathesis.toml`` of a parent folder is read, and runs from the
test's ``tmp_path``: even with ``database = "none"`` Hypothesis writes ``.hypothesis/unicode_data``
into its storage directory, which is pointed there too. The target is a stub answering from its
offline catalogue (``catalog=True``: the documented example URLs get their documented answer,
any other URL a deterministic pass or a documented failure), once per failure shape, plus a
negative control.

What Schemathesis found before the package's source fixes (the research note, stub downloading
loopback images only): ``ServerNotFound`` aside (an openapi-core matter), ST202
positive_data_acceptance on every positive case (the public example URLs answered 400
InvalidURL), ST204 unsupported_method (400 where it expects 405), ST201 negative_data_rejection
once images downloaded (it negated ``additionalProperties: false`` and the stub accepted the
unknown field), warnings missing_auth and validation_mismatch, and ``X-DashScope-Async: null``
sent on 63 of 65 coverage requests (a header parameter whose schema is ``not: {}``), so 55 of
them ended 403 and the body checks never ran. Passing took a ``map_case`` hook (drop the header,
give positive bodies a loopback image) and four settings (``allow-extra-parameters = false``, an
``image_url`` override, unsupported_method off, the examples phase off).

What it finds now, with no configuration (``--checks all --mode all``, 50 examples, seed 1,
107 cases per run): no header problem, no warning, the examples phase passes (the catalogue
answers the documented URLs), no ST201 (no object is closed any more), and two failures:

- ST204 unsupported_method, both shapes: GET, PUT, PATCH, DELETE, OPTIONS, TRACE and QUERY are
  answered with the documented 400 InvalidParameter "Request method 'X' is not supported.";
- ST202 positive_data_acceptance: shape A on one case (``httP://[210a.E]:65500`` answered 400
  InvalidImage.FileFormat), shape B on five (400 InvalidFile.BodyProportion twice,
  InvalidFile.Value twice, and the same InvalidImage.FileFormat).

Both are documented answers; ``schemathesis.toml`` configures each away with its source. Its
``[checks] enabled = true`` stands for ``--checks all``: that option on the command line overrides
every file setting and would turn unsupported_method back on (it only knows ``enabled``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.contracts.openapi import OPENAPI_FILE
from facedetect_contract.doubles.fake import CatalogImages, FakeRequest, FakeResponse, Image
from facedetect_contract.doubles.server import ResponseHook, serve_in_thread
from facedetect_contract.plugin import TEST_KEY

pytestmark = [
    pytest.mark.outside,
    pytest.mark.skipif(find_spec("schemathesis") is None, reason="schemathesis not installed"),
]

CONTRACTS = load_contracts()
PROFILE = CONTRACTS.profile
DOCUMENT = CONTRACTS.directory / OPENAPI_FILE
CONFIG = Path(__file__).with_name("schemathesis.toml")
SETTINGS = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
CONFIGURED_AWAY = "unsupported_method"
# The checks `--checks all` runs that act on this stub; max_response_time needs a limit to act.
CHECKS = {
    "allow_header_conformance",
    "content_type_conformance",
    "ensure_resource_availability",
    "ignored_auth",
    "missing_required_header",
    "negative_data_rejection",
    "not_a_server_error",
    "object_level_authorization",
    "positive_data_acceptance",
    "response_headers_conformance",
    "response_schema_conformance",
    "status_code_conformance",
    "use_after_free",
}
TIMEOUT_S = 300


def _rename_verdict(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    """The negative control: every 200 carries its verdict under another name."""
    if response.status != 200:
        return response
    body = response.json()
    output = PROFILE.response.verdict.parent.get(body)
    output["passed"] = output.pop(PROFILE.response.verdict.name)
    return dataclasses.replace(response, body=json.dumps(body).encode())


@dataclasses.dataclass(frozen=True)
class Exchange:
    """One case of the run: its phase and mode, the stub's answer, and each check's status."""

    phase: str
    mode: str | None
    method: str
    status: int
    body: Any
    checks: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Run:
    """One finished ``schemathesis run``."""

    returncode: int
    output: str
    workdir: Path
    report: dict[str, Any]
    events: list[dict[str, Any]]

    def exchanges(self) -> Iterator[Exchange]:
        for event in self.events:
            scenario = event.get("ScenarioFinished")
            if scenario is None:
                continue
            recorder = scenario["recorder"]
            for case_id, node in recorder["cases"].items():
                interaction = recorder["interactions"].get(case_id)
                if interaction is None:
                    continue
                case = node["value"]
                checks: dict[str, str] = {}
                for check in recorder["checks"].get(case_id, []):
                    if checks.get(check["name"]) != "failure":
                        checks[check["name"]] = check["status"]
                yield Exchange(
                    phase=case["meta"]["phase"]["name"],
                    mode=(case["meta"].get("generation") or {}).get("mode"),
                    method=case["method"],
                    status=interaction["response"]["status_code"],
                    body=_decode(interaction["response"].get("content")),
                    checks=checks,
                )


def _decode(content: dict[str, str] | None) -> Any:
    if not content:
        return None
    raw = base64.b64decode(content["$base64"]) if "$base64" in content else content["string"]
    try:
        return json.loads(raw)
    except ValueError:
        return None


def command(base_url: str, workdir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        str(DOCUMENT),
        "--url",
        base_url,
        "--mode",
        "all",
        "-H",
        f"Authorization: Bearer {TEST_KEY}",
        "--no-color",
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(workdir / "report.json"),
        "--report-ndjson-path",
        str(workdir / "report.ndjson"),
    ]


def _environment(workdir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SCHEMATHESIS_", "HYPOTHESIS_"))
    }
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(workdir / ".hypothesis")  # its unicode cache
    env["COLUMNS"] = "200"  # paths in the output on one line
    return env


def _config_folder() -> set[str]:
    return {p.name for p in CONFIG.parent.iterdir() if p.name != "__pycache__"}


@dataclasses.dataclass
class SomeFail(CatalogImages):
    """The offline catalogue, except that one URL nobody named in eight (by its hash) fails the
    portrait check for a documented reason: Schemathesis draws URLs nobody named, and its
    positive cases must meet failed checks (in the stub's shape) as well as passes."""

    def fetch(self, url: str) -> Image:
        image = super().fetch(url)
        digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()
        if url in self.images or image.reason is not None or digest[2] >= 32:
            return image
        reasons = sorted(self.contracts.portrait_codes)
        return dataclasses.replace(image, face=None, reason=reasons[digest[3] % len(reasons)])


def schemathesis_run(shape: str, hook: ResponseHook | None, workdir: Path) -> Run:
    """``schemathesis run`` against a fresh catalogue stub of ``shape``, from ``workdir``."""
    with serve_in_thread(
        api_keys=[TEST_KEY], failure_shape=shape, images=SomeFail(CONTRACTS), response_hook=hook
    ) as stub:
        finished = subprocess.run(
            command(stub.base_url, workdir),
            cwd=workdir,
            env=_environment(workdir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    report, events = workdir / "report.json", workdir / "report.ndjson"
    return Run(
        returncode=finished.returncode,
        output=finished.stdout,
        workdir=workdir,
        report=json.loads(report.read_text()) if report.exists() else {},
        events=[json.loads(line) for line in events.read_text().splitlines()]
        if events.exists()
        else [],
    )


def assert_hermetic(run: Run, config_folder_before: set[str]) -> None:
    """The run read the given config only, and wrote into nothing but its working directory."""
    assert re.search(r"Configuration:\s+" + re.escape(str(CONFIG)) + r"\s", run.output)
    assert {p.name for p in run.workdir.iterdir()} <= {
        "report.json",
        "report.ndjson",
        ".hypothesis",
    }
    assert _config_folder() == config_folder_before


# One test per run: each run is a few seconds, and pytest-xdist workers would repeat a run that
# a module-scoped fixture shared between tests.
@pytest.mark.parametrize("shape", PROFILE.failure_shapes, ids=lambda s: f"shape-{s}")
def test_every_check_but_the_one_configured_away_passes_on_the_catalogue_stub_in_each_shape(
    tmp_path: Path, shape: str
) -> None:
    before = _config_folder()
    run = schemathesis_run(shape, None, tmp_path)
    assert run.returncode == 0, run.output[-6000:]
    report = run.report
    assert report["exit_code"] == 0
    assert report["failures"] == [] and report["errors"] == []
    assert {name: found for name, found in report["warnings"].items() if found} == {}
    assert report["test_cases"]["generated"] >= SETTINGS["generation"]["max-examples"]
    assert report["test_cases"]["errored"] == 0
    for phase in ("examples", "coverage", "fuzzing"):
        assert report["phases"][phase]["status"] == "success"
        assert next(iter(report["valid_rates"].values()))[phase]["accepted"] > 0
    # Every check ran, but the one the config turns off.
    exchanges = list(run.exchanges())
    ran = {name for exchange in exchanges for name in exchange.checks}
    assert ran >= CHECKS
    assert CONFIGURED_AWAY not in ran
    assert SETTINGS["checks"][CONFIGURED_AWAY] == {"enabled": False}
    # Valid cases met passes and failed checks, the failures in the stub's shape, all accepted.
    verdict, error_code = PROFILE.response.verdict, PROFILE.response.error_code
    positive = [e for e in exchanges if e.mode == "positive"]
    assert any(e.status == 200 and verdict.get(e.body) is True for e in positive)
    failed = [
        e
        for e in positive
        if (e.status == 200 and verdict.get(e.body) is False)
        or (e.status == 400 and error_code.get(e.body) in CONTRACTS.portrait_codes)
    ]
    assert failed, "no valid case met a failed portrait check"
    assert {e.status for e in failed} == {
        next(k.status for k in PROFILE.answers if k.shape == shape)
    }
    assert all(e.checks["positive_data_acceptance"] == "success" for e in failed)
    assert_hermetic(run, before)


def test_a_stub_breaking_the_response_schema_fails_the_same_run(tmp_path: Path) -> None:
    before = _config_folder()
    run = schemathesis_run(PROFILE.failure_shapes[0], _rename_verdict, tmp_path)
    assert run.returncode == 1, run.output[-6000:]
    assert run.report["exit_code"] == 1
    assert {f["code"] for f in run.report["failures"]} == {"ST108"}  # "Response violates schema"
    failing = {n for e in run.exchanges() for n, status in e.checks.items() if status == "failure"}
    assert failing == {"response_schema_conformance"}
    assert_hermetic(run, before)
