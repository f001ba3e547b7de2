"""The probe's rows as a plain-text table (terminal, task log) or JSON (scripts)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from airflow_provider_rtc.probe.engine import ProbeResult, ProbeRow

COLUMNS: tuple[tuple[str, str], ...] = (
    ("cloud", "cloud"),
    ("api", "API"),
    ("sent", "sent"),
    ("seen", "code or shape seen"),
    ("assumes", "catalog assumes"),
    ("verdict", "verdict"),
    ("why", "why"),
)


def render_table(rows: Sequence[ProbeRow]) -> str:
    cells = [[str(getattr(r, key)) for key, _ in COLUMNS] for r in rows]
    heads = [title for _, title in COLUMNS]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(heads), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    return "\n".join(out)


def render(result: ProbeResult, fmt: str = "table") -> str:
    if fmt == "json":
        doc = {
            "rows": [r.as_dict() for r in result.rows],
            "summary": result.summary(),
            "exit_code": result.exit_code,
        }
        return json.dumps(doc, indent=2)
    return render_table(result.rows) + "\n\n" + result.summary()
