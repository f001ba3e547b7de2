"""Generate tests/conformance/data/tencent_errors.json from a local tencentcloud-sdk-go checkout.

The Go SDK's ``client.go`` lists, above each ``func (c *Client) <Action>(``, the error codes that
action may return ("可能返回的错误码"), as Go constant names (``RESOURCENOTFOUND_FILENOTEXIST``)
usually followed by ``= "ResourceNotFound.FileNotExist"``; constants are resolved through the
product's ``errors.go`` when the comment lacks the value. Only the actions the provider's catalog
uses are written; the Go code itself is never copied into this repository.

Usage: python tools/gen_tencent_errors.py /path/to/tencentcloud-sdk-go [out.json]
(a work tree, or a bare git directory: files are then read with ``git show HEAD:<path>``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PRODUCTS = {"trtc": "v20190722", "live": "v20180801", "vod": "v20180717"}
_FUNC = re.compile(r"^func \(c \*Client\) (\w+)\(request \*\w+Request\) \(response")
_ITEM = re.compile(r'^//\s+([A-Z0-9_]+)(?:\s*=\s*"([^"]+)")?\s*$')
_CONST = re.compile(r'^\s*([A-Z0-9_]+)\s*=\s*"([^"]+)"')
OUT = Path(__file__).resolve().parent.parent / "tests" / "conformance" / "data" / "tencent_errors.json"


def _reader(root: Path):
    if (root / "tencentcloud").is_dir():
        return lambda rel: (root / rel).read_text(encoding="utf-8")

    def show(rel: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(root), "show", f"HEAD:{rel}"], check=True, capture_output=True, text=True
        ).stdout

    return show


def _commit(root: Path) -> str:
    git_dir = ["--git-dir", str(root)] if not (root / "tencentcloud").is_dir() else ["-C", str(root)]
    out = subprocess.run(["git", *git_dir, "log", "-1", "--format=%H %cI"], check=True, capture_output=True)
    sha, date = out.stdout.decode().split()
    return f"{sha} ({date})"


def constants(errors_go: str) -> dict[str, str]:
    """Go constant name -> code, from one product's errors.go (every code the product documents)."""
    return {m.group(1): m.group(2) for line in errors_go.splitlines() if (m := _CONST.match(line))}


def parse(client_go: str, errors_go: str) -> dict[str, list[str]]:
    """Action -> its documented codes, from one product's client.go and errors.go."""
    consts = constants(errors_go)
    actions: dict[str, list[str]] = {}
    comment: list[str] = []
    for line in client_go.splitlines():
        if line.startswith("//"):
            comment.append(line)
            continue
        func = _FUNC.match(line)
        if func:
            codes: list[str] = []
            listing = False
            for c in comment:
                if "可能返回的错误码" in c:
                    listing = True
                    continue
                item = _ITEM.match(c) if listing else None
                if item:
                    code = item.group(2) or consts.get(item.group(1))
                    if code is None:
                        raise SystemExit(f"{func.group(1)}: unknown error constant {item.group(1)}")
                    codes.append(code)
            # the WithContext twin repeats the same list: keep the first
            actions.setdefault(func.group(1), sorted(set(codes)))
        if line.strip():
            comment = []
    return actions


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    root = Path(argv[1])
    out = Path(argv[2]) if len(argv) > 2 else OUT
    read = _reader(root)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from airflow_provider_rtc import catalog

    wanted = {(api.product, api.action) for api in catalog.CATALOG.values() if api.cloud == "tencent"}
    data: dict[str, object] = {
        "source": "github.com/TencentCloud/tencentcloud-sdk-go tencentcloud/<product>/<version>/client.go",
        "commit": _commit(root),
        "generator": "tools/gen_tencent_errors.py",
        "product_codes": {},
        "actions": {},
    }
    actions: dict[str, dict[str, object]] = {}
    for product, version in PRODUCTS.items():
        base = f"tencentcloud/{product}/{version}"
        errors_go = read(f"{base}/errors.go")
        parsed = parse(read(f"{base}/client.go"), errors_go)
        data["product_codes"][product] = sorted(set(constants(errors_go).values()))  # type: ignore[index]
        for prod, action in sorted(wanted):
            if prod == product:
                if action not in parsed:
                    raise SystemExit(f"{product}.{action} is not in {base}/client.go")
                actions[action] = {"product": product, "version": version, "codes": parsed[action]}
    data["actions"] = dict(sorted(actions.items()))
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(actions)} actions -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
