"""Typed reads of Tencent API 3.0 parameters from a JSON body or a flattened GET query.

POST bodies are typed JSON and are held to the documented types (a string ``SdkAppId`` is invalid);
GET values are strings, flattened the SDK way (``UserIds.0=a``, ``A.B=1``), and parsed per field.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import SandboxError

UINT64_MAX = 2**64 - 1
_INT = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``[("A.0.B", "x")]`` -> ``{"A": [{"B": "x"}]}``; dotted keys with index parts become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.split(".")
        node: Any = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SandboxError(
                    "InvalidParameter", f"The parameter `{key}` conflicts with another parameter."
                )
        if parts[-1] in node:
            raise SandboxError("InvalidParameter", f"The parameter `{key}` is given more than once.")
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        indexes = sorted(int(k) for k in converted)
        if indexes != list(range(len(indexes))) or any(str(int(k)) != k for k in converted):
            raise SandboxError("InvalidParameter", "Array parameters must be indexed 0..n-1.")
        return [converted[str(i)] for i in indexes]
    return converted


class TencentParams:
    """One parameter object; ``missing``/``invalid`` name the error code each read answers with."""

    def __init__(self, data: dict[str, Any], from_query: bool) -> None:
        self.data = data
        self.from_query = from_query

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def _value(self, name: str, missing: str | None) -> Any:
        if not self.has(name):
            if missing is not None:
                raise SandboxError(missing, f"The request is missing a required parameter `{name}`.")
            return None
        return self.data[name]

    @staticmethod
    def _invalid(code: str, name: str, value: Any) -> SandboxError:
        return SandboxError(code, f"The value `{value}` of parameter `{name}` is invalid.")

    def uint(
        self,
        name: str,
        *,
        missing: str | None,
        invalid: str,
        default: int | None = None,
        low: int = 0,
        high: int = UINT64_MAX,
    ) -> int | None:
        value = self._value(name, missing)
        if value is None:
            return default
        if self.from_query and isinstance(value, str) and _INT.fullmatch(value):
            number = int(value)
        elif not self.from_query and isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            raise self._invalid(invalid, name, value)
        if not low <= number <= high:
            raise self._invalid(invalid, name, value)
        return number

    def number(self, name: str, *, invalid: str, default: float | None = None) -> float | None:
        value = self._value(name, None)
        if value is None:
            return default
        if self.from_query and isinstance(value, str) and _NUMBER.fullmatch(value):
            return float(value)
        if not self.from_query and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise self._invalid(invalid, name, value)

    def string(
        self, name: str, *, missing: str | None, invalid: str, default: str | None = None
    ) -> str | None:
        value = self._value(name, missing)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._invalid(invalid, name, value)
        if value == "" and missing is not None:
            raise SandboxError(missing, f"The request is missing a required parameter `{name}`.")
        return value

    def str_list(self, name: str, *, missing: str | None, invalid: str) -> list[str] | None:
        value = self._value(name, missing)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._invalid(invalid, name, value)
        return list(value)

    def uint_list(self, name: str, *, invalid: str) -> list[int] | None:
        """An optional list of non-negative integers (decimal strings in query form)."""
        value = self._value(name, None)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._invalid(invalid, name, value)
        holder = TencentParams({str(i): item for i, item in enumerate(value)}, self.from_query)
        return [holder.uint(str(i), missing=None, invalid=invalid) or 0 for i in range(len(value))]

    def obj(self, name: str, *, missing: str | None, invalid: str) -> TencentParams | None:
        value = self._value(name, missing)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._invalid(invalid, name, value)
        return TencentParams(value, self.from_query)

    def obj_list(self, name: str, *, missing: str | None, invalid: str) -> list[TencentParams] | None:
        value = self._value(name, missing)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._invalid(invalid, name, value)
        return [TencentParams(v, self.from_query) for v in value]
