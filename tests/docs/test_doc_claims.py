"""What the docs state about the code, checked against the code (issue 22: wrong docs).

Each test reads a page and the classes it describes, so the statement and the code cannot part.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys

import pytest

from tests.docs.snippets import ROOT

DOCS = ROOT / "docs"
OPERATOR_MODULES = ("trtc", "live", "zego")


def _classes(package: str, modules: tuple[str, ...], suffix: str) -> dict[str, type]:
    found: dict[str, type] = {}
    for name in modules:
        module = importlib.import_module(f"airflow_provider_rtc.{package}.{name}")
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and cls_name.endswith(suffix)
                and not cls_name.startswith("_")
            ):
                found[cls_name] = cls
    return found


def _bulk_operators() -> dict[str, type]:
    return {
        n: c for n, c in _classes("operators", OPERATOR_MODULES, "Operator").items() if n.startswith("Bulk")
    }


def test_the_bulk_table_lists_every_bulk_operator() -> None:
    page = (DOCS / "how-to" / "cleanup-operators.md").read_text()
    table = page[page.index("## Bulk operators") :]
    table = table[: table.index("Targets come from")]
    missing = [name for name in _bulk_operators() if f".{name}(" not in table]
    assert not missing, f"bulk operators missing from the bulk table: {missing}"
    decision = (DOCS / "end-an-event.md").read_text()
    assert not [name for name in _bulk_operators() if name not in decision]


def test_max_concurrency_is_documented_as_it_is() -> None:
    """The bulk operators take ``max_concurrency`` at parse time; the page must not call it templated."""
    templated = [n for n, c in _bulk_operators().items() if "max_concurrency" in c.template_fields]
    page = " ".join((DOCS / "how-to" / "cleanup-operators.md").read_text().split())
    says_not = "`max_concurrency` and `progress_interval` are not templated" in page
    assert says_not == (not templated), templated
    assert "a numeric string from a template is accepted" not in page


def test_every_hook_class_named_in_the_docs_exists_and_every_hook_is_listed() -> None:
    hooks = _classes("hooks", ("tencentcloud", "trtc", "live", "vod", "zego"), "Hook")
    text = "\n".join(p.read_text() for p in [ROOT / "README.md", *DOCS.rglob("*.md")])
    named = set(re.findall(r"`(\w+Hook)\b", text))
    assert named, "no hook class named anywhere"
    assert not named - set(hooks) - {"BaseHook"}, f"docs name hooks that do not exist: {named - set(hooks)}"
    reference = (DOCS / "reference" / "hooks.md").read_text()
    assert not [h for h in hooks if f"`{h}`" not in reference], "hooks missing from reference/hooks.md"


def test_readme_is_a_short_front_page_whose_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert local and not [t for t in local if not (ROOT / t).exists()]
    # the one recommended way, by prefix with a dry run first, is on the front page
    assert "room_id_prefix" in readme and "dry_run" in readme


@pytest.mark.parametrize("name", ["exception-classes", "tencent-rules", "zego-rules", "per-api-codes"])
def test_generated_error_tables_come_from_the_code(name: str) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import docs_hooks
    finally:
        sys.path.remove(str(ROOT / "tools"))
    table = docs_hooks.render(f"<!-- generated: {name} -->")
    assert table.startswith("|") and table.count("\n") >= 3
    expected = {
        "exception-classes": "`RtcThrottledError`",
        "tencent-rules": "`FailedOperation.RestrictedFrequency`",
        "zego-rules": "`206`, `207`",
        "per-api-codes": "`CloseRoom`",
    }[name]
    assert expected in table
    assert f"<!-- generated: {name} -->" in (DOCS / "troubleshooting.md").read_text()
    with pytest.raises(ValueError, match="unknown generated table"):
        docs_hooks.render("<!-- generated: no-such-table -->")
