"""The operators' shape: shallow, composed, one parser per kind of input."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_rtc.get_provider_info import get_provider_info

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_rtc"
MAX_PROVIDER_CLASSES = 3


def _public_operators() -> list[type]:
    info = get_provider_info()
    modules = [m for section in ("operators", "sensors") for e in info[section] for m in e["python-modules"]]
    found = []
    for name in modules:
        module = importlib.import_module(name)
        for attr, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, BaseOperator)
                and cls.__module__ == name
                and not attr.startswith("_")
            ):
                found.append(cls)
    return found


def _provider_classes(cls: type) -> list[str]:
    return [c.__qualname__ for c in cls.__mro__ if c.__module__.startswith("airflow_provider_rtc")]


OPERATORS = _public_operators()


def test_every_public_operator_module_was_found() -> None:
    names = {cls.__name__ for cls in OPERATORS}
    assert {"BulkDismissRoomsOperator", "DeleteCloudRecordingOperator", "StopRecordOperator"} <= names
    assert len(OPERATORS) >= 18


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_at_most_three_provider_classes_deep(cls: type) -> None:
    chain = _provider_classes(cls)
    assert len(chain) <= MAX_PROVIDER_CLASSES, chain


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_single_inheritance_only(cls: type) -> None:
    """No mixins whose order among the bases matters: each provider class has one provider base."""
    for klass in cls.__mro__:
        if klass.__module__.startswith("airflow_provider_rtc"):
            provider_bases = [b for b in klass.__bases__ if b.__module__.startswith("airflow_provider_rtc")]
            assert len(provider_bases) <= 1, (klass, provider_bases)


def _sources() -> list[tuple[str, ast.AST]]:
    """Every module outside the validation module and the sandbox (which models the clouds)."""
    result = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel != "validation.py" and not rel.startswith("sandbox/"):
            result.append((rel, ast.parse(path.read_text())))
    return result


def _called(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ""


def test_one_list_parser() -> None:
    """Lists from templates are parsed in one place (JSON or Python literal, bounded)."""
    assert [rel for rel, tree in _sources() for n in ast.walk(tree) if _called(n) == "literal_eval"] == []


def test_one_integer_parser() -> None:
    """No helper elsewhere turns text into an integer by trying ``int()`` and catching the error:
    that is ``validation.integer`` (strict, for input) or ``validation.lenient_int`` (cloud data)."""
    parsers = []
    for rel, tree in _sources():
        for node in ast.walk(tree):
            catches_value_error = isinstance(node, ast.Try) and any(
                "ValueError" in ast.unparse(h.type) for h in node.handlers if h.type is not None
            )
            if catches_value_error and any(_called(n) == "int" for b in node.body for n in ast.walk(b)):
                parsers.append(f"{rel}:{node.lineno}")
    assert parsers == []
