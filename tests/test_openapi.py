"""The OpenAPI document: assembled from the JSON Schema contracts, committed, and never stale."""

from __future__ import annotations

import json
import re

import pytest

from facedetect_contract.contracts import CONTRACT_DIR, Contracts
from facedetect_contract.openapi import OPENAPI_FILE, build_openapi, render_openapi


def test_the_committed_openapi_document_is_up_to_date(contracts: Contracts) -> None:
    committed = (CONTRACT_DIR / OPENAPI_FILE).read_text()
    assert committed == render_openapi(contracts), (
        "contracts/face-detect/openapi.json is stale: run `python -m facedetect_contract openapi --write`"
    )


def test_the_openapi_document_covers_every_documented_status_and_resolves_every_ref(
    contracts: Contracts,
) -> None:
    document = build_openapi(contracts)
    operation = document["paths"]["/services/aigc/image2video/face-detect"]["post"]
    assert {int(s) for s in operation["responses"]} == contracts.documented_statuses
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in document["components"]["schemas"], ref
    assert not re.findall(r'"\$ref": "(?!#/components/schemas/)', text), (
        "a $ref still points into a file"
    )


@pytest.mark.outside  # a third-party tool judges the document: the slow tier (its import, 1.5 s)
def test_schemathesis_reads_the_request_contract_out_of_the_openapi_document(
    contracts: Contracts,
) -> None:
    """An outside reader (Schemathesis, a dev dependency) finds the one operation, and the
    bodies it draws from the document are the ones the request contract accepts."""
    import schemathesis
    from schemathesis import GenerationMode

    from tests.test_strategies import draw_many

    schema = schemathesis.openapi.from_dict(build_openapi())
    operation = schema[contracts.profile.path]["POST"]
    assert (operation.method.upper(), operation.path) == ("POST", contracts.profile.path)
    cases = draw_many(operation.as_strategy(generation_mode=GenerationMode.POSITIVE), 30)
    assert len(cases) >= 20
    validator = contracts.validator("request")
    assert all(validator.is_valid(case.body) for case in cases), [c.body for c in cases][:3]
