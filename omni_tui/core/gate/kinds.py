"""The states the gate can be in (`GateState.kind`), named once: the type and the tuple the cockpit's
header iterates. A leaf module (it imports nothing of the project), so a widget can read it without
pulling in the gate's machinery.
"""

from __future__ import annotations

from typing import Literal, get_args

GateKind = Literal["clean", "pending", "unapproved_edits", "rebuilding", "failed", "tampered"]
GATE_KINDS: tuple[GateKind, ...] = get_args(GateKind)
