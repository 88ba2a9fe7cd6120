"""The endpoint profile is the one place the endpoint's facts live; Python only reads it.

The scan below fails when a fact of the profile, the error table or the request contract appears
as a literal in the package's Python anywhere but the loader. Docstrings are documentation and
are not scanned; everything else is (string and number constants, f-string parts).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

import facedetect_contract
from facedetect_contract.contracts.loader import (
    CONTRACT_DIR,
    ContractFileError,
    Contracts,
    load_contracts,
)
from facedetect_contract.core.pointers import Pointer

PACKAGE = Path(facedetect_contract.__file__).parent
# The modules that turn the data files into values: the only ones allowed to name them.
LOADERS = {"profile.py", "questions.py", "loader.py"}


@dataclass(frozen=True)
class Facts:
    """What a module must not spell: whole strings, words inside strings, numbers by context."""

    exact: frozenset[str]
    words: frozenset[str]  # matched as whole words inside any string
    numbers: dict[float, str]  # a number, and the word a name near it holds (iou, qps, side)


def facts_of(contracts: Contracts) -> Facts:
    profile = contracts.profile
    fields = profile.response
    pointers = [getattr(fields, name) for name in fields.__dataclass_fields__]
    pointers += [getattr(profile.request, name) for name in profile.request.__dataclass_fields__]
    exact = {entry.code for entry in contracts.errors}
    exact |= {*contracts.models, *contracts.ratios, profile.model, profile.content_type}
    exact |= {profile.base_url_env, profile.api_key_env, profile.async_header}
    exact |= {profile.request_id_header, profile.stub_throttle_code, *profile.image_formats}
    exact |= {str(pointer) for pointer in pointers}
    # Field names distinctive enough to be a fact wherever they appear (check_pass, face_bbox);
    # plain words that are also field names (code, message, ratio) are left to the pointers.
    words = {p.name for p in pointers if "_" in p.name or p.name == fields.humanoid.name}
    words |= {profile.path, profile.default_base_url, "aliyun.com", "alibabacloud.com"}
    words |= {m for entry in contracts.errors for m in entry.messages if len(m) > 15}
    words |= {entry.stub_message for entry in contracts.errors if entry.stub_message}
    words |= {example.url for example in profile.example_images}
    numbers = {
        float(profile.price): "",
        float(profile.max_side_px): "",
        profile.iou_min: "iou",
        profile.qps: "qps",
        float(profile.min_side_px): "side",
    }
    return Facts(frozenset(exact), frozenset(words), numbers)


def _skipped(tree: ast.AST) -> set[int]:
    """Constants that name nothing: docstrings, and the identifiers listed in ``__all__``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))  # a bare string statement: an attribute docstring
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            found |= {id(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
    return found


def _own(statement: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of a statement itself, not of the statements nested in it."""
    pending = list(ast.iter_child_nodes(statement))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.stmt):
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def _names(statement: ast.stmt) -> str:
    """Every identifier of a statement, lower-cased and joined: the context of a number."""
    parts = [getattr(statement, "name", "")]
    for node in _own(statement):
        if isinstance(node, ast.Name):
            parts.append(node.id)
        elif isinstance(node, ast.Attribute):
            parts.append(node.attr)
        elif isinstance(node, ast.keyword | ast.arg) and node.arg:
            parts.append(node.arg)
    return " ".join(parts).lower()


def literal_facts(source: str, contracts: Contracts) -> Iterator[tuple[int, str]]:
    """(line, fact) for each fact of the contracts the source spells as a literal."""
    facts = facts_of(contracts)
    word = re.compile(
        "|".join(rf"(?<![A-Za-z0-9_-]){re.escape(w)}(?![A-Za-z0-9_-])" for w in facts.words)
    )
    tree = ast.parse(source)
    skipped = _skipped(tree)
    for statement in ast.walk(tree):
        if not isinstance(statement, ast.stmt):
            continue
        context = None
        for constant in _own(statement):
            if not isinstance(constant, ast.Constant) or id(constant) in skipped:
                continue
            value = constant.value
            if isinstance(value, str):
                if value in facts.exact:
                    yield constant.lineno, value
                yield from ((constant.lineno, m.group(0)) for m in word.finditer(value))
            elif isinstance(value, int | float) and not isinstance(value, bool):
                near = facts.numbers.get(float(value))
                if near is not None:
                    context = _names(statement) if context is None else context
                    if near in context:
                        yield constant.lineno, repr(value)


def package_sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "suite" not in p.parts)


@pytest.mark.parametrize(
    "path",
    [p for p in package_sources() if p.name not in LOADERS],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_endpoint_fact_is_a_literal_outside_the_profile_loader(path: Path) -> None:
    found = sorted(set(literal_facts(path.read_text(encoding="utf-8"), load_contracts())))
    assert not found, (
        f"{path.relative_to(PACKAGE.parent)} spells endpoint facts that belong in "
        f"contracts/face-detect/ (read them through contracts.profile): {found}"
    )


@pytest.mark.parametrize(
    "source",
    [
        'x = body["output"]["check_pass"]',
        'PATH = "/services/aigc/image2video/face-detect"',
        "PRICE = 0.004",
        "IOU_THRESHOLD = 0.9",
        "def f(qps=5.0): pass",
        'def f(): return "Throttling.RateQuota"',
        'MESSAGE = f"{a}: The request parameter is invalid, please check the request parameter."',
        'HOST = "https://help.aliyun.com/zh/model-studio/error-code"',
    ],
    ids=["field names", "path", "price", "iou", "qps", "code", "message in an f-string", "doc URL"],
)
def test_the_scan_finds_a_fact_spelled_as_a_literal(source: str) -> None:
    assert list(literal_facts(source, load_contracts()))


@pytest.mark.parametrize(
    "source",
    [
        '"""Reads /output/check_pass and prices at CNY 0.004."""\ndef f():\n    """face_bbox."""\n',
        '__all__ = ["AccessDenied", "ModelNotFound"]',
        'KIND = "check_passed"',
        "HEADROOM = 0.9  # a share of the window, not a box overlap",
    ],
    ids=["docstrings", "names in __all__", "a longer word", "the same number, another meaning"],
)
def test_the_scan_leaves_alone_what_is_no_fact(source: str) -> None:
    assert list(literal_facts(source, load_contracts())) == []


def test_the_profile_is_what_the_package_reads() -> None:
    """A sample of facts, read through the profile, as the docs give them."""
    profile = load_contracts().profile
    assert profile.price == Decimal("0.004")
    assert profile.qps == 5
    assert profile.iou_min == 0.9
    assert profile.ratio_tolerance_px == 1
    assert (profile.min_side_px, profile.max_side_px) == (400, 7000)
    assert str(profile.response.verdict) == "/output/check_pass"
    assert [k.name for k in profile.answers] == [
        "check-passed",
        "check-failed-a",
        "check-failed-b",
        "request-error",
    ]
    assert profile.failure_shapes == ("A", "B")
    assert str(profile.source("emo-detect-api")).endswith("(2026-02-11)")


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "face-detect"
    directory.mkdir()
    for source in CONTRACT_DIR.iterdir():
        (directory / source.name).write_bytes(source.read_bytes())
    return directory


def _edit(directory: Path, name: str, pointer: str, value: object) -> None:
    path = directory / name
    data = json.loads(path.read_text())
    Pointer.parse(pointer).parent.get(data)[Pointer.parse(pointer).name] = value
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("name", "pointer", "value", "message"),
    [
        ("endpoint.json", "/rejections/no-api-key/code", "NoSuchCode", "is not in errors.json"),
        ("endpoint.json", "/rejections/no-api-key/message", "Made up.", "is not a message"),
        ("endpoint.json", "/model", "emo-detect-v9", "is not in the model enum"),
        (
            "endpoint.json",
            "/answers/check-failed-a/question",
            "no-such-question",
            "no open question",
        ),
        ("endpoint.json", "/answers/check-failed-a/reading", "C", "has no reading 'C'"),
        ("endpoint.json", "/billing/sources", ["nowhere"], "is not in /sources"),
        ("endpoint.json", "/geometry/ratio_tolerance_px", -1, "at /geometry/ratio_tolerance_px"),
        (
            "questions.json",
            "/questions/0/readings/0/encoded_by/0/pointer",
            "/nope",
            "has nothing at",
        ),
    ],
    ids=[
        "unknown code",
        "undocumented message",
        "model not in the contract",
        "unknown question",
        "unknown reading",
        "unknown source",
        "negative tolerance",
        "dangling pointer",
    ],
)
def test_a_broken_reference_between_data_files_is_named_with_its_file_and_field(
    tmp_path: Path, name: str, pointer: str, value: object, message: str
) -> None:
    directory = _copy(tmp_path)
    _edit(directory, name, pointer, value)
    with pytest.raises(ContractFileError, match=message) as raised:
        Contracts(directory)
    assert str(directory / name) in str(raised.value)
