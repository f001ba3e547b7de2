"""What must end before what: per room where the identities say the room, per application where not.

The clouds require an order only between a few kinds, each for a documented reason (the ender
table's ``after``; vendor sources at :data:`DEPENDS_ON`); everything else may run at the same time. A
dependency is per resource: a room waits for *its* streams, users and recordings, not for every
stream of the event. A target whose identity carries no room (a recording or mix task named by its
task id alone, as the event conf gives them) is a dependency of every dependent target of its
cloud and application: the engine cannot tell which room it belongs to, so it must end first.
Those kinds are fast APIs (50-100 calls/s), so this costs a fraction of a second.

Pure: no I/O, no Airflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_rtc.cleanup.enders import ROWS
from airflow_provider_rtc.identity import ResourceRef

#: (cloud, kind) -> the kinds of the same cloud and application that must end first: the ender
#: table's ``after`` field (plan targets carry their row's copy). Why each order (vendor sources):
#:
#: * ZEGO CloseRoom "removes every user and closes the room. It triggers the logout and
#:   stream-close callbacks" (ZEGO server API, CloseRoom page; shared reference zegocloud-api.md):
#:   it ends the room's streams, so a mix reading them must be stopped first (StopMix page: a mix
#:   runs on for 90 s after its inputs vanish, a stale picture), a recording is stopped by its own
#:   call (files finalised by the stop, not by the room vanishing), and users/streams named
#:   explicitly (a host who must leave first) go before the room that would take them anyway.
#: * a mix before its input streams (ZEGO StopMix page: "task A ends on its own only 90 seconds
#:   after all input streams of task A no longer exist"); kicking a publisher ends its streams.
#: * TRTC recordings and AI/relay tasks are stopped before their room is dismissed, so their output
#:   is finalised by the stop (DeleteCloudRecording) rather than by the robot being thrown out with
#:   the room; users removed explicitly go before the room (DismissRoom removes everyone anyway).
#: * a Live mix (CancelCommonMixStream) before its input streams (DropLiveStream): the mix reads
#:   InputStreamList (Live CreateCommonMixStream; shared reference live-api-tables.md), and the
#:   viewers of the mixed output must stop getting it before its inputs break.
DEPENDS_ON: dict[tuple[str, str], tuple[str, ...]] = {(row.cloud, row.kind): row.after for row in ROWS}


def _refs(target: dict[str, Any]) -> list[ResourceRef]:
    return [r if isinstance(r, ResourceRef) else ResourceRef.from_dict(r) for r in target.get("refs") or []]


def rooms_of(target: dict[str, Any]) -> set[ResourceRef | None]:
    """The rooms a target lives in (a room target: itself); ``{None}`` when its identity has none."""
    rooms: set[ResourceRef | None] = set()
    for ref in _refs(target):
        if ref.kind == "rooms":
            rooms.add(ref)
        elif ref.room:
            rooms.add(ref.room_ref)
        else:
            rooms.add(None)
    return rooms or {None}


def _app(target: dict[str, Any]) -> str:
    refs = _refs(target)
    return refs[0].app_id if refs else ""


def dependencies(
    targets: Sequence[dict[str, Any]], table: dict[tuple[str, str], tuple[str, ...]] | None = None
) -> list[tuple[int, ...]]:
    """For each target (plan-shaped: ``cloud``, ``kind``, ``refs``), the indices of the targets that
    must end before it: of a kind its ender row's ``after`` lists (the target's ``after``; else
    ``table``'s entry), same cloud and application, and in one of its rooms, or with no room known."""
    table = DEPENDS_ON if table is None else table
    # (cloud, app, kind, room or None) -> indices
    index: dict[tuple[str, str, str, ResourceRef | None], list[int]] = {}
    for i, t in enumerate(targets):
        for room in rooms_of(t):
            index.setdefault((t["cloud"], _app(t), t["kind"], room), []).append(i)
    out: list[tuple[int, ...]] = []
    for t in targets:
        before: set[int] = set()
        app = _app(t)
        kinds = t["after"] if "after" in t else table.get((t["cloud"], t["kind"]), ())
        for kind in kinds:
            before.update(index.get((t["cloud"], app, kind, None), ()))
            for room in rooms_of(t):
                if room is None:  # no room known: every target of that kind in the app goes first
                    for (cloud, a, k, _), found in index.items():
                        if (cloud, a, k) == (t["cloud"], app, kind):
                            before.update(found)
                else:
                    before.update(index.get((t["cloud"], app, kind, room), ()))
        out.append(tuple(sorted(before)))
    return out
