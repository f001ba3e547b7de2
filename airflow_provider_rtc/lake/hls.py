"""HLS recordings: a manifest lists only the ``.m3u8`` index; its ``.ts`` segments are copied too.

TRTC's COS recordings (and ZEGO's ``hls`` format) are an index plus segments. Copying the index
alone leaves a lake copy that no player can open, so after an index is copied its playlist is read
back from the destination (bounded: :data:`MAX_PLAYLIST_BYTES`) and every segment is planned as one
more :class:`~airflow_provider_rtc.lake.copy.CopyJob` - the same skip, temporary name,
verification and retries as any other file. Segments land next to the copied index at the path
their URI names relative to it, so the copied playlist plays as it is (it is never rewritten).

Segment URIs that are absolute (``https://...``, ``/path``) or climb out of the index's folder
(``..``) cannot be made to resolve inside the lake without rewriting the playlist: they are not
copied and the destination manifest says so in ``warnings``. A URI that names no valid file (a
control character such as ``%00``) fails that one entry, with its reason in the report.

A master playlist names variant (and ``#EXT-X-MEDIA`` rendition) playlists rather than segments:
those are copied and read in turn, down to :data:`MAX_DEPTH` levels below the manifest's file.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from airflow_provider_rtc.lake.copy import CopyJob, CopyOutcome

MAX_PLAYLIST_BYTES = 4 * 1024 * 1024
MAX_SEGMENTS = 100_000
#: levels of playlists followed below a manifest file: master -> variant -> segments
MAX_DEPTH = 2
#: tags whose ``URI="..."`` attribute names a file to copy (keys are not: they are secrets that a
#: lake should not hold next to the media; an encrypted recording's copy needs its key server)
_URI_TAGS = ("#EXT-X-MAP:", "#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:")


def is_index(entry: dict[str, Any]) -> bool:
    name = str(entry.get("name") or "")
    return name.lower().endswith(".m3u8") or str(entry.get("format") or "").lower() in ("m3u8", "hls")


def segment_uris(text: str) -> list[str]:
    """The URIs of a playlist in order: URI lines (segments, or a master's variant playlists),
    ``#EXT-X-MAP`` init segments and the ``URI`` of ``#EXT-X-MEDIA`` / I-frame playlists."""
    uris: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(_URI_TAGS) and 'URI="' in line:
            uris.append(line.split('URI="', 1)[1].split('"', 1)[0])
        elif line and not line.startswith("#"):
            uris.append(line)
    return list(dict.fromkeys(uris))


def relative_path(uri: str) -> str | None:
    """The path a segment URI names under the index's folder; ``None`` when it names none."""
    parts = urlsplit(uri)
    if parts.scheme or parts.netloc or parts.path.startswith("/"):
        return None
    names = [unquote(p) for p in parts.path.split("/") if p not in ("", ".")]
    if not names or any(n == ".." or "/" in n for n in names):
        return None
    return "/".join(names)


def read_index(target: Any) -> str:
    """The playlist text of a copied index; refuses one larger than :data:`MAX_PLAYLIST_BYTES`."""
    with target.open("rb") as handle:
        data = handle.read(MAX_PLAYLIST_BYTES + 1)
    if len(data) > MAX_PLAYLIST_BYTES:
        raise ValueError(f"playlist larger than {MAX_PLAYLIST_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


def segment_jobs(index: CopyOutcome) -> tuple[list[CopyJob], list[str]]:
    """The segments of a copied (or already present) index as jobs, and warnings for the rest."""
    job = index.job
    try:
        uris = segment_uris(read_index(job.target))
    except (OSError, ValueError) as err:
        return [], [f"{job.name}: its playlist could not be read ({err}); segments not copied"]
    jobs: list[CopyJob] = []
    outside: list[str] = []
    for uri in uris[:MAX_SEGMENTS]:
        rel = relative_path(uri)
        if rel is None:
            outside.append(uri)
            continue
        entry = {
            "name": rel,
            "format": rel.rsplit(".", 1)[-1].lower() if "." in rel else None,
            "status": job.entry.get("status"),
        }
        depth = job.depth + 1
        if any(ord(c) < 32 or ord(c) == 127 for c in rel):
            shown = rel.encode("unicode_escape").decode("ascii")
            entry["name"] = shown
            jobs.append(
                replace(
                    job,
                    entry=entry,
                    size=None,
                    md5=None,
                    segment_of=job.name,
                    depth=depth,
                    invalid=f"{job.name} names {uri!r}, which is no valid file name (control character)",
                )
            )
            continue
        seg = replace(
            job,
            entry=entry,
            target=job.target.parent / rel,
            size=None,
            md5=None,
            segment_of=job.name,
            depth=depth,
        )
        if job.kind == "bucket":
            seg.source = job.source.parent / rel
        else:
            seg.url = urljoin(job.url or "", uri)
        jobs.append(seg)
    warnings = []
    if outside:
        warnings.append(
            f"{job.name}: {len(outside)} segment(s) with absolute or out-of-folder URIs were not "
            "copied (the copied playlist still points at them)"
        )
    if len(uris) > MAX_SEGMENTS:
        warnings.append(f"{job.name}: only the first {MAX_SEGMENTS} segments were copied")
    return jobs, warnings
