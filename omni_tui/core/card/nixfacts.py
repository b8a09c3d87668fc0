"""The facts of a devenv module: `Value`s at normalised attribute paths, with their lines, and what was not read.

A `Path` is a normalised attribute path (`("services", "redis", "enable")`); `Facts` is what
`nixparse` (Nix) and `yamlfacts` (devenv.yaml) produce and `diff` compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

Path = tuple[str, ...]

# Kinds of `Value`: literal ones can be compared and shown as they are; `ref`, `expr` and `func` are
# shown as written (whitespace collapsed) and are never resolved.
LITERAL_KINDS = frozenset({"str", "bool", "int", "float", "null", "path", "list", "attrs"})


@dataclass(frozen=True)
class Value:
    kind: str  # str | bool | int | float | null | path | list | attrs | ref | expr | func
    text: str  # strings: their content; everything else: canonical Nix-like text
    line: int = 0  # 1-based line where the value starts in its file
    end_line: int = 0
    condition: str | None = None  # set under mkIf / optionals / optionalString / optionalAttrs
    items: tuple[Value, ...] = ()  # list elements
    dynamic: bool = False  # a string with interpolations left as written, or a non-literal value

    @cached_property  # Values of unchanged bindings are shared between versions (the binding cache)
    def key(self) -> tuple[str, str, str | None, tuple[Any, ...]]:
        """What two values are compared by (never the line)."""
        return (self.kind, self.text, self.condition, tuple(i.key for i in self.items))

    def with_condition(self, condition: str | None) -> Value:
        if condition is None:
            return self
        joined = condition if self.condition is None else f"({condition}) && ({self.condition})"
        return Value(
            self.kind, self.text, self.line, self.end_line, joined, tuple(i.with_condition(condition) for i in self.items), self.dynamic
        )

    def display(self) -> str:
        """Nix-like text: strings quoted, the rest as is."""
        if self.kind == "str":
            return '"' + self.text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        return self.text


@dataclass(frozen=True)
class Unparsed:
    line: int
    why: str


@dataclass
class Facts:
    """`values[path]` has lines relative to `offsets[path]` (a cached top-level binding keeps its
    facts when lines above it move); `line(path)` is the line in the file. A list defined by several
    top-level bindings (merged) has offset 0 and its items' own offsets in `item_rows[path]`."""

    values: dict[Path, Value] = field(default_factory=dict)
    offsets: Mapping[Path, int] = field(default_factory=dict)
    unparsed: list[Unparsed] = field(default_factory=list)
    fetchers: list[tuple[str, int]] = field(default_factory=list)  # (call as written, line): fetchurl, builtins.fetchGit, …
    grouped: Any = field(default=None, compare=False, repr=False)  # diff.py's grouping, kept with the cached facts
    syntax_error: bool = False  # the parser had to recover: the values are not to be trusted
    item_rows: dict[Path, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)
    # nixparse's record of the top-level bindings (what a later version re-reads incrementally from)
    layout: Any = field(default=None, compare=False, repr=False)
    # (weak reference to the facts these were derived from, the paths whose values may differ from theirs)
    basis: Any = field(default=None, compare=False, repr=False)
    # derived facts add new paths to `values` last: () → the values in a fresh read's order
    reorder: Any = field(default=None, compare=False, repr=False)

    def line(self, path: Path, value: Value | None = None) -> int:
        v = value if value is not None else self.values.get(path)
        return (v.line if v is not None else 0) + self.offsets.get(path, 0)

    def ordered(self) -> Iterable[tuple[Path, Value]]:
        """The values in the order a fresh read finds them (where each path is first defined)."""
        return self.values.items() if self.reorder is None else self.reorder()

    def item_line(self, path: Path, index: int, item: Value) -> int:
        """The file line of item `index` of the list at `path`."""
        rows = self.item_rows.get(path)
        return item.line + (rows[index] if rows is not None else self.offsets.get(path, 0))
