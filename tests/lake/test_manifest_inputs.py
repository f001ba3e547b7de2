"""What CopyRecordingsOperator accepts as ``manifest``: the shapes upstream tasks hand it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import pytest

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.lake.paths import load_manifests


def _manifest(task: str) -> dict[str, Any]:
    return {"cloud": "zego", "task_id": task, "files": [{"name": f"{task}.mp4", "size": 10}]}


class LazySequence(Sequence[Any]):
    """Stands for Airflow's ``LazyXComSequence``: a mapped upstream's results, not a list."""

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)


def test_a_mapped_upstreams_results_are_the_manifests() -> None:
    # one sensor per recording, mapped: its .output reaches the operator as a lazy sequence
    manifests, single = load_manifests(LazySequence([_manifest("a"), _manifest("b")]), {})
    assert [m["task_id"] for m in manifests] == ["a", "b"] and single is False


def test_mapped_tasks_that_each_return_a_list_are_flattened() -> None:
    value = LazySequence([[_manifest("a"), _manifest("b")], [_manifest("c")]])
    manifests, _ = load_manifests(value, {})
    assert [m["task_id"] for m in manifests] == ["a", "b", "c"]


@pytest.mark.parametrize("value", ['"just text"', b"bytes", 42])
def test_other_values_are_refused_naming_the_parameter(value: Any) -> None:
    with pytest.raises(RtcValidationError, match="manifest"):
        load_manifests(value, {})
