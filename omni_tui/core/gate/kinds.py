"""The states the gate can be in (`GateState.kind`), named once: the type, the tuple the cockpit's
header iterates, and the words it shows for each (`gate_label`). A leaf module (it imports nothing of the project), so a widget can read it without
pulling in the gate's machinery.
"""

from __future__ import annotations

from typing import Literal, get_args

GateKind = Literal["clean", "pending", "unapproved_edits", "rebuilding", "failed", "tampered"]
GATE_KINDS: tuple[GateKind, ...] = get_args(GateKind)


def gate_label(kind: str, pending: int) -> str:
    """The words the header shows for a gate state (`GateState.label`): `CLEAN`, `2 PENDING`, `FAILED — rollback?`…"""
    if kind == "pending":
        return f"{pending} PENDING"
    if kind == "unapproved_edits":
        return "UNAPPROVED EDITS"
    if kind == "rebuilding":
        return "REBUILDING"
    if kind == "failed":
        return "FAILED — rollback?"
    if kind == "tampered":
        return "TAMPERED — resolve?"
    return "CLEAN"
