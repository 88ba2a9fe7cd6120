"""The mutants of one module: mutmut 3's operators, applied everywhere, plus a few of our own.

mutmut (https://github.com/boxed/mutmut) skips decorated functions (every check here is one)
and module constants (the suite's tables are); its operator functions are a plain library
(``mutmut.mutation.mutators.mutation_operators``), so this module walks the whole module with
libcst and applies them to every node it may, then adds:

- statement deletion: a call statement, ``+=``, ``return``, ``raise``, ``continue`` or
  ``break`` becomes ``pass``;
- severity swap: ``Severity.BREAKING`` <-> ``Severity.ADDITIVE``;
- ``min`` <-> ``max`` and ``any`` <-> ``all``;
- element removal: one element of a list, tuple or set literal, one entry of a dict literal;
- n-1: an integer literal one smaller (mutmut makes it one larger).

Not mutated, by rule (README, "Mutation testing"): docstrings and other bare string
statements, type annotations and module-level type aliases, imports, ``TYPE_CHECKING``
blocks, ``__all__``, assignment and loop targets, and any line marked ``# pragma: no mutate``.
Everything else is.

A mutant's id is stable across edits elsewhere in the file: a digest of its enclosing
function or class, the operator, the code before and after, and how many identical mutants
came before it in that scope. Line numbers are shown, never part of the id.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper, PositionProvider
from mutmut.mutation.mutators import mutation_operators

PRAGMA = "pragma: no mutate"

Operator = Callable[[cst.CSTNode], Iterable[cst.CSTNode]]


def _delete_statement(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    call = isinstance(node, cst.Expr) and isinstance(node.value, cst.Call | cst.Await)
    if call or isinstance(node, cst.AugAssign | cst.Return | cst.Raise | cst.Continue | cst.Break):
        yield cst.Pass()


_SEVERITIES = {"BREAKING": "ADDITIVE", "ADDITIVE": "BREAKING"}


def _swap_severity(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "Severity"
        and node.attr.value in _SEVERITIES
    ):
        yield node.with_changes(attr=cst.Name(_SEVERITIES[node.attr.value]))


_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any"}


def _swap_builtin(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
        swapped = _SWAPS.get(node.func.value)
        if swapped is not None:
            yield node.with_changes(func=cst.Name(swapped))


def _remove_element(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(node, cst.List | cst.Tuple | cst.Set):
        elements = list(node.elements)
        if isinstance(node, cst.Set) and len(elements) == 1:
            return  # {} would be a dict, not an empty set
        for i in range(len(elements)):
            kept = [*elements[:i], *elements[i + 1 :]]
            if kept:  # no dangling comma after the new last element
                kept[-1] = kept[-1].with_changes(comma=elements[-1].comma)
            if isinstance(node, cst.Tuple) and len(kept) == 1:
                kept[0] = kept[0].with_changes(comma=cst.Comma())  # (x,) stays a tuple
            if isinstance(node, cst.Tuple) and not kept:  # x, -> (): parentheses needed
                yield cst.Tuple(elements=[])
                continue
            yield node.with_changes(elements=kept)
    elif isinstance(node, cst.Dict):
        elements = list(node.elements)
        for i in range(len(elements)):
            kept = [*elements[:i], *elements[i + 1 :]]
            if kept:
                kept[-1] = kept[-1].with_changes(comma=elements[-1].comma)
            yield node.with_changes(elements=kept)


def _minus_one(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(node, cst.Integer):
        value = node.evaluated_value - 1
        yield (
            node.with_changes(value=repr(value))
            if value >= 0
            else cst.UnaryOperation(cst.Minus(), cst.Integer(repr(-value)))
        )


OPERATORS: tuple[tuple[str, type[cst.CSTNode], Operator], ...] = (
    *((f"mutmut.{function.__name__}", kind, function) for kind, function in mutation_operators),
    ("delete-statement", cst.BaseSmallStatement, _delete_statement),
    ("severity-swap", cst.Attribute, _swap_severity),
    ("min-max-any-all", cst.Call, _swap_builtin),
    ("remove-element", cst.BaseExpression, _remove_element),
    ("n-1", cst.Integer, _minus_one),
)

NEVER_CALLS = {"len", "isinstance"}  # as mutmut: their arguments are not worth mutating


@dataclass(frozen=True)
class Mutant:
    """One change to one module."""

    id: str
    path: str  # relative to the checkout
    line: int
    end: int  # the last line of the mutated node
    scope: str  # the enclosing function or class ("<module>" at the top)
    operator: str
    before: str
    after: str
    source: str = field(repr=False)  # the whole mutated module

    def describe(self) -> str:
        return f"{self.path}:{self.line} [{self.operator}] in {self.scope}: {self.diff()}"

    def diff(self) -> str:
        return f"{_short(self.before)!r} -> {_short(self.after)!r}"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "line": self.line,
            "end": self.end,
            "scope": self.scope,
            "operator": self.operator,
            "before": _short(self.before),
            "after": _short(self.after),
        }


def _short(code: str, limit: int = 160) -> str:
    flat = " ".join(code.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, ByteSpanPositionProvider)

    def __init__(self, module: cst.Module, source: bytes, path: str, ignored: set[int]) -> None:
        super().__init__()
        self.module = module
        self.source = source
        self.path = path
        self.ignored = ignored
        self.scopes: list[str] = []
        self.mutants: list[Mutant] = []
        self._seen: Counter[tuple[str, ...]] = Counter()

    # -- scope ----------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    # -- what is never mutated --------------------------------------------------------------

    def _skipped(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Annotation | cst.Import | cst.ImportFrom | cst.AssignTarget):
            return True
        if isinstance(node, cst.Expr) and isinstance(
            node.value, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString
        ):
            return True  # a docstring or another bare string
        if isinstance(node, cst.If) and _names(node.test) == {"TYPE_CHECKING"}:
            return True
        if isinstance(node, cst.Assign) and any(
            isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in node.targets
        ):
            return True
        if isinstance(node, cst.Assign) and not self.scopes and _is_type_alias(node.value):
            return True
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            return node.func.value in NEVER_CALLS
        return False

    def visit_For(self, node: cst.For) -> bool:
        self._mutate(node)
        for child in (node.iter, node.body, *(c for c in [node.orelse] if c is not None)):
            child.visit(self)
        return False  # the target (a name to bind) is not mutated

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._skipped(node):
            return False
        if isinstance(node, cst.For):
            return self.visit_For(node)
        handled = super().on_visit(node)  # scope bookkeeping
        self._mutate(node)
        return handled

    # -- making mutants ---------------------------------------------------------------------

    def _mutate(self, node: cst.CSTNode) -> None:
        position = self.get_metadata(PositionProvider, node, None)
        span = self.get_metadata(ByteSpanPositionProvider, node, None)
        if position is None or span is None:
            return
        lines = range(position.start.line, position.end.line + 1)
        if any(line in self.ignored for line in lines):
            return
        before = self.source[span.start : span.start + span.length]
        for name, kind, operator in OPERATORS:
            if not isinstance(node, kind):
                continue
            for mutated in operator(node):
                if getattr(mutated, "lpar", None) and not before.startswith(b"("):
                    # the span leaves out the node's own parentheses: so does its replacement,
                    # unless it needs them (an empty tuple)
                    with contextlib.suppress(cst.CSTValidationError):
                        mutated = mutated.with_changes(lpar=[], rpar=[])  # noqa: PLW2901
                after = self.module.code_for_node(mutated).encode()
                if after == before:
                    continue
                source = self.source[: span.start] + after + self.source[span.start + span.length :]
                text = source.decode()
                try:
                    ast.parse(text)
                except SyntaxError:
                    continue
                lines = (position.start.line, position.end.line)
                self._add(name, lines, before.decode(), after.decode(), text)

    def _add(
        self, operator: str, lines: tuple[int, int], before: str, after: str, source: str
    ) -> None:
        scope = ".".join(self.scopes) or "<module>"
        key = (scope, operator, before, after)
        self._seen[key] += 1
        digest = hashlib.sha256("\0".join([*key, str(self._seen[key])]).encode()).hexdigest()
        stem = module_stem(self.path)
        self.mutants.append(
            Mutant(
                f"{stem}-{digest[:10]}", self.path, *lines, scope, operator, before, after, source
            )
        )


_GENERIC_BUILTINS = {"tuple", "list", "dict", "set", "frozenset", "type"}


def _is_type_alias(value: cst.BaseExpression) -> bool:
    """``X = tuple[int, int]`` or ``Y = A | None``: a name for a type, for annotations only."""
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.BitOr):
        return all(_is_type(side) for side in (value.left, value.right))
    return isinstance(value, cst.Subscript) and _is_type(value)


def _is_type(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.Subscript):
        return _is_type(value.value)
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.BitOr):
        return _is_type(value.left) and _is_type(value.right)
    name = value.attr.value if isinstance(value, cst.Attribute) else getattr(value, "value", "")
    if not isinstance(name, str):
        return False
    capwords = name[:1].isupper() and any(c.islower() for c in name)
    return capwords or name in _GENERIC_BUILTINS or name == "None"


def _names(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    node.visit(Names())
    return found


def ignored_lines(source: str) -> set[int]:
    return {number for number, line in enumerate(source.splitlines(), 1) if PRAGMA in line}


def module_stem(path: str) -> str:
    """The name a module's mutant ids start with: its file's stem, or its package's name for an
    ``__init__.py`` (``facedetect_contract/checks/__init__.py`` -> ``checks``)."""
    file = Path(path)
    return file.parent.name if file.stem == "__init__" else file.stem


def mutants_of(root: Path, path: str) -> list[Mutant]:
    """Every mutant of the module at ``root / path``, in source order."""
    source = (root / path).read_text(encoding="utf-8")
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    collector = _Collector(module, source.encode("utf-8"), path, ignored_lines(source))
    wrapper.visit(collector)
    return sorted(collector.mutants, key=lambda m: (m.line, m.id))
