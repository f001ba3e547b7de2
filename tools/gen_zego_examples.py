"""Copy ZEGO's own example payloads from a ``ZEGOCLOUD/docs_all`` checkout into test data.

For the server APIs the provider calls, the request and response examples of each OpenAPI page
(``*.yaml``: an explicit ``example``, else one assembled from the schema's per-member ``example``
values, which is how those pages render their samples); for the callbacks it receives, the page's
"Data example" JSON block (``*.mdx``); and the return codes each API page and the global
return-code pages list (``zego_codes.json``). Each file records the doc path and the commit it came from.
Only data is written, no ZEGO code.

Usage: python tools/gen_zego_examples.py /path/to/docs_all [out_dir]
(a work tree, or a bare git directory: files are then read with ``git show HEAD:<path>``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent.parent / "tests" / "conformance" / "data" / "zego"
RTC = "core_products/real-time-voice-video/en/server"
REC = "extended_services/cloud_recording/en/server"
#: file stem -> (kind, name, doc path)
SOURCES: dict[str, tuple[str, str, str]] = {
    "close_room": ("api", "CloseRoom", f"{RTC}/api-reference/room/close.yaml"),
    "kickout_user": ("api", "KickoutUser", f"{RTC}/api-reference/room/kick-out-user.yaml"),
    "delete_stream": ("api", "DeleteStream", f"{RTC}/api-reference/room/delete-stream.yaml"),
    "describe_user_num": ("api", "DescribeUserNum", f"{RTC}/api-reference/room/describe-user-num.yaml"),
    "describe_user_list": ("api", "DescribeUserList", f"{RTC}/api-reference/room/describe-user-list.yaml"),
    "describe_users": ("api", "DescribeUsers", f"{RTC}/api-reference/room/describe-users.yaml"),
    "describe_simple_stream_list": (
        "api",
        "DescribeSimpleStreamList",
        f"{RTC}/api-reference/room/describe-simple-streamlist.yaml",
    ),
    "start_mix": ("api", "StartMix", f"{RTC}/api-reference/stream-mixing/start-mix.yaml"),
    "stop_mix": ("api", "StopMix", f"{RTC}/api-reference/stream-mixing/stop-mix.yaml"),
    "get_mix_task_info": (
        "api",
        "GetMixTaskInfo",
        f"{RTC}/api-reference/stream-mixing/get-mix-task-info.yaml",
    ),
    "start_record": ("api", "StartRecord", f"{REC}/start-record.yaml"),
    "stop_record": ("api", "StopRecord", f"{REC}/stop-record.yaml"),
    "describe_record_status": ("api", "DescribeRecordStatus", f"{REC}/describe-record-status.yaml"),
    "describe_tasks": ("api", "DescribeTasks", f"{REC}/describe-tasks.yaml"),
    "cb_room_create": ("callback", "room_create", f"{RTC}/callback/room/created.mdx"),
    "cb_room_close": ("callback", "room_close", f"{RTC}/callback/room/destroyed.mdx"),
    "cb_room_login": ("callback", "room_login", f"{RTC}/callback/room/logged-in.mdx"),
    "cb_room_logout": ("callback", "room_logout", f"{RTC}/callback/room/logged-out.mdx"),
    "cb_stream_create": ("callback", "stream_create", f"{RTC}/callback/stream/created.mdx"),
    "cb_stream_close": ("callback", "stream_close", f"{RTC}/callback/stream/destroyed.mdx"),
    "cb_mix_start": ("callback", "mix_start", f"{RTC}/callback/stream-mixing/started.mdx"),
    "cb_mix_stop": ("callback", "mix_stop", f"{RTC}/callback/stream-mixing/stopped.mdx"),
    "cb_recording_status": ("callback", "recording_status", f"{REC}/recording-status-callback.mdx"),
}
_JSON_BLOCK = re.compile(r"```json\s*\n(.*?)\n```", re.S)
#: return-code pages: (family, doc path, heading of the section to read, "" = the whole page)
CODE_PAGES = [
    ("common", f"{RTC}/api-reference/return-codes.mdx", "Common Return codes"),
    ("room", f"{RTC}/api-reference/return-codes.mdx", "Room Signaling Interfaces"),
    ("mix", f"{RTC}/api-reference/return-codes.mdx", "Stream Mixing and Transcoding Interfaces"),
    ("media", f"{RTC}/api-reference/return-codes.mdx", "Media Service Interfaces"),
    ("media", f"{RTC}/api-reference/return-codes.mdx", "Media File Interfaces"),
    # the media-service and media-file (cdn) API pages list their own codes (1010, 5007, 3001...)
    ("media", f"{RTC}/api-reference/media-service/", "*.yaml"),
    ("media", f"{RTC}/api-reference/cdn/", "*.yaml"),
    ("moderation", f"{RTC}/api-reference/return-codes.mdx", "Audio/Video Stream Moderation Interfaces"),
    ("record", f"{REC}/return-codes.mdx", ""),
    # the Chinese cloud-recording page lists more codes than the English one (e.g. 300000005)
    ("record", "extended_services/cloud_recording/zh/server/error-codes.mdx", ""),
]
#: codes in a Markdown table row (``| 104 | ...``) or an HTML one (``<td>1010, 30002</td>``)
_CODE = re.compile(r"^\|\s*(\d+(?:\s*[,、]\s*\d+)*)\s*\||<td>\s*(\d+(?:\s*[,、]\s*\d+)*)\s*</td>", re.M)


def codes_in(text: str) -> list[int]:
    cells = [a or b for a, b in _CODE.findall(text)]  # a cell may list several: "1010, 30002"
    return sorted({int(code) for cell in cells for code in re.split(r"[,、\s]+", cell) if code})


def section(text: str, heading: str) -> str:
    if not heading:
        return text
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 3)
    return text[start : end if end > 0 else len(text)]


def _reader(root: Path) -> Any:
    if (root / "core_products").is_dir():
        return lambda rel: (root / rel).read_text(encoding="utf-8")

    def show(rel: str) -> str:
        out = subprocess.run(
            ["git", "--git-dir", str(root), "show", f"HEAD:{rel}"], check=True, capture_output=True
        )
        return out.stdout.decode("utf-8")

    return show


def _listing(root: Path, folder: str) -> list[str]:
    """The ``.yaml`` pages directly in ``folder`` (work tree or bare git directory)."""
    if (root / "core_products").is_dir():
        return sorted(str(p.relative_to(root)) for p in (root / folder).glob("*.yaml"))
    cmd = ["git", "--git-dir", str(root), "ls-tree", "--name-only", "HEAD", folder]
    out = subprocess.run(cmd, check=True, capture_output=True).stdout.decode()
    return sorted(line for line in out.splitlines() if line.endswith(".yaml"))


def _commit(root: Path) -> str:
    where = ["-C", str(root)] if (root / "core_products").is_dir() else ["--git-dir", str(root)]
    out = subprocess.run(["git", *where, "log", "-1", "--format=%H %cI"], check=True, capture_output=True)
    sha, date = out.stdout.decode().split()
    return f"{sha} ({date})"


def _resolve(doc: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return None  # shared components: the common signature parameters
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def example_of(doc: dict[str, Any], schema: Any) -> Any:
    """The schema's own example, else one assembled from its members' examples (None if none)."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict):
        return None
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(doc, part)
            if isinstance(value, dict):
                merged.update(value)
        return merged or None
    if schema.get("type") == "array" or "items" in schema:
        item = example_of(doc, schema.get("items"))
        return None if item is None else [item]
    if "properties" in schema:
        out = {}
        for name, sub in schema["properties"].items():
            value = example_of(doc, sub)
            if value is not None:
                out[name] = value
        return out or None
    return None


def api_example(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    ((_, methods),) = doc["paths"].items()
    ((method, op),) = [(m, o) for m, o in methods.items() if m in ("get", "post")]
    query = {}
    for param in op.get("parameters", []):
        param = _resolve(doc, param)
        if not param or param.get("name") == "Action":
            continue
        value = param.get("example", example_of(doc, param.get("schema")))
        if value is not None:
            query[param["name"]] = value
    body = None
    if "requestBody" in op:
        content = op["requestBody"]["content"]["application/json"]
        body = content.get("example", example_of(doc, content.get("schema")))
    content = op["responses"]["200"]["content"]["application/json"]
    response = content.get("example", example_of(doc, content.get("schema")))
    return {"method": method.upper(), "query": query, "body": body, "response": response}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    root = Path(argv[1])
    out = Path(argv[2]) if len(argv) > 2 else OUT
    out.mkdir(parents=True, exist_ok=True)
    read, commit = _reader(root), _commit(root)
    for stem, (kind, name, path) in SOURCES.items():
        text = read(path)
        data: dict[str, Any] = {
            "doc": f"github.com/ZEGOCLOUD/docs_all/{path}",
            "commit": commit,
            "kind": kind,
        }
        if kind == "api":
            data.update(action=name, **api_example(text))
        else:
            (block, *_) = _JSON_BLOCK.findall(text)
            data.update(event=name, payload=json.loads(block))
        (out / f"{stem}.json").write_text(
            json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    codes: dict[str, Any] = {"commit": commit, "families": {}, "actions": {}}
    for family, path, heading in CODE_PAGES:
        entry = codes["families"].setdefault(family, {"docs": [], "codes": []})
        if heading == "*.yaml":
            found = {c for page in _listing(root, path) for c in codes_in(read(page))}
        else:
            found = set(codes_in(section(read(path), heading)))
        entry["docs"].append(f"github.com/ZEGOCLOUD/docs_all/{path}" + (f" ## {heading}" if heading else ""))
        entry["codes"] = sorted(set(entry["codes"]) | found)
    for kind, name, path in SOURCES.values():
        if kind == "api":
            codes["actions"][name] = {
                "doc": f"github.com/ZEGOCLOUD/docs_all/{path}",
                "codes": codes_in(read(path)),
            }
    text = json.dumps(codes, indent=1) + "\n"
    (out.parent / "zego_codes.json").write_text(text, encoding="utf-8")
    print(f"{len(SOURCES)} files -> {out}, return codes -> {out.parent / 'zego_codes.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
