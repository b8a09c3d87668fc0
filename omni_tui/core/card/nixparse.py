"""A devenv module's Nix source → flat facts `{("services", "redis", "enable"): Value}`, statically.

Parsed with tree-sitter and the tree-sitter-nix grammar. Nothing is evaluated: attribute sets are
flattened into normalised paths (so `services.redis.enable = true;`, `services = { redis.enable = true; };`
and `services.redis = { enable = true; };` give the same fact), `let … in` names and `with pkgs;` lists
are followed where the value is literal, `lib.mkIf`/`optionals`/`optionalString`/`optionalAttrs` put a
condition on what they wrap, `mkMerge`/`mkDefault`/`mkForce`/`mkOverride`/`mkBefore`/`mkAfter` are
seen through. Everything else is kept as written (kind `expr`, `ref`) and never guessed at; what
cannot even be placed (a syntax error, a computed attribute name, a module that is not an attribute
set) is listed in `Facts.unparsed`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

Path = tuple[str, ...]

# Kinds of `Value`: literal ones can be compared and shown as they are; `ref`, `expr` and `func` are
# shown as written (whitespace collapsed) and are never resolved.
LITERAL_KINDS = frozenset({"str", "bool", "int", "float", "null", "path", "list", "attrs"})

_MAX_DEPTH = 64  # nesting / let-following depth; deeper is reported as written
_WS = re.compile(r"\s+")


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
    facts when lines above it move); `line(path)` is the line in the file."""

    values: dict[Path, Value] = field(default_factory=dict)
    offsets: dict[Path, int] = field(default_factory=dict)
    unparsed: list[Unparsed] = field(default_factory=list)
    fetchers: list[tuple[str, int]] = field(default_factory=list)  # (call as written, line): fetchurl, builtins.fetchGit, …
    grouped: Any = field(default=None, compare=False, repr=False)  # diff.py's grouping, kept with the cached facts
    syntax_error: bool = False  # the parser had to recover: the values are not to be trusted

    def line(self, path: Path, value: Value | None = None) -> int:
        v = value if value is not None else self.values.get(path)
        return (v.line if v is not None else 0) + self.offsets.get(path, 0)


_FETCHER = re.compile(r"(?:^|\.)(fetch[A-Za-z0-9]*|getFlake)$")
_WRAPPERS_UNWRAP = {"mkDefault": 1, "mkForce": 1, "mkBefore": 1, "mkAfter": 1, "mkOverride": 2, "mkOrder": 2, "mkOptionDefault": 1}
_LIB_PREFIXES = ("pkgs.lib.", "lib.lists.", "lib.strings.", "lib.attrsets.", "lib.modules.", "lib.trivial.", "lib.")


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_nix
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_nix.language()))


def _t(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


class _Scope:
    """Names in reach: let/rec bindings (node + the scope they were bound in) and `with` environments."""

    __slots__ = ("names", "withs", "parent")

    def __init__(
        self, parent: _Scope | None = None, names: dict[str, tuple[Node, _Scope | None]] | None = None, withs: tuple[str, ...] = ()
    ) -> None:
        self.parent = parent
        self.names = names or {}
        self.withs = withs

    def lookup(self, name: str) -> tuple[Node, _Scope | None] | None:
        s: _Scope | None = self
        while s is not None:
            hit = s.names.get(name)
            if hit is not None:
                return hit
            s = s.parent
        return None

    def with_env(self) -> str | None:
        s: _Scope | None = self
        while s is not None:
            if s.withs:
                return s.withs[-1]
            s = s.parent
        return None


def _named(node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type != "comment"]


def _dedent(fragments: list[str]) -> str:
    """Nix indented-string rules: strip the common indentation, drop a whitespace-only first line."""
    text = "".join(fragments)
    lines = text.split("\n")
    indents = [len(l) - len(l.lstrip(" ")) for l in lines[1:] if l.strip()] if len(lines) > 1 else []
    if lines and lines[0].strip():
        indents.append(len(lines[0]) - len(lines[0].lstrip(" ")))
    cut = min(indents) if indents else 0
    out = [l[cut:] if len(l) >= cut else l.lstrip(" ") for l in lines]
    if out and not out[0].strip():
        out = out[1:]
    if out and not out[-1].strip():
        out[-1] = ""
    return "\n".join(out)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unescape(fragment: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), fragment, flags=re.S)


def _unescape_indented(fragment: str) -> str:
    return fragment.replace("'''", "''").replace("''$", "$").replace("''\\n", "\n").replace("''\\t", "\t").replace("''\\r", "\r")


class _Reader:
    def __init__(self, facts: Facts, row0: int = 0) -> None:
        self.facts = facts
        self.row0 = row0  # lines are counted from this row (the top-level binding's), see `Facts`
        self.merged: dict[Path, list[Value]] = {}

    def _line(self, node: Node) -> int:
        return int(node.start_point[0]) + 1 - self.row0

    def _end(self, node: Node) -> int:
        return int(node.end_point[0]) + 1 - self.row0

    # ---- values -------------------------------------------------------------------------------
    def value(self, node: Node, scope: _Scope, depth: int = 0) -> Value:
        line, end = self._line(node), self._end(node)
        kind = node.type
        if depth > _MAX_DEPTH:
            return Value("expr", _collapse(_t(node)), line, end, dynamic=True)
        if kind == "parenthesized_expression":
            inner = _named(node)
            return self.value(inner[0], scope, depth + 1) if inner else Value("expr", "()", line, end, dynamic=True)
        if kind == "string_expression" or kind == "indented_string_expression":
            return self._string(node, scope, depth, line, end)
        if kind == "integer_expression":
            return Value("int", _t(node), line, end)
        if kind == "float_expression":
            return Value("float", _t(node), line, end)
        if kind in ("path_expression", "hpath_expression", "spath_expression"):
            return Value("path", _t(node), line, end)
        if kind == "uri_expression":
            return Value("str", _t(node), line, end)
        if kind == "variable_expression":
            return self._variable(node, scope, depth, line, end)
        if kind == "select_expression":
            return self._select(node, scope, depth, line, end)
        if kind == "list_expression":
            items: list[Value] = []
            for element in _named(node):
                v = self.value(element, scope, depth + 1)
                items.append(v)
            return Value(
                "list",
                "[ " + " ".join(i.display() for i in items) + " ]",
                line,
                end,
                items=tuple(items),
                dynamic=any(i.dynamic for i in items),
            )
        if kind == "binary_expression":
            return self._binary(node, scope, depth, line, end)
        if kind == "apply_expression":
            return self._apply(node, scope, depth, line, end)
        if kind in ("attrset_expression", "rec_attrset_expression"):
            sub = Facts()
            nested = _Reader(sub, self.row0)
            nested.attrs(node, (), scope, None, depth + 1)
            nested.finish()
            self.facts.fetchers.extend(sub.fetchers)
            self.facts.unparsed.extend(sub.unparsed)
            shown = " ".join(f"{'.'.join(p)} = {v.display()};" for p, v in sub.values.items())
            dynamic = any(v.dynamic for v in sub.values.values())
            return Value("attrs", "{ " + shown + (" }" if shown else "}"), line, end, dynamic=dynamic)
        if kind == "function_expression":
            return Value("func", _collapse(_t(node)), line, end, dynamic=True)
        if kind == "let_expression":
            inner_scope = self._let_scope(node, scope)
            body = node.child_by_field_name("body")
            if body is not None:
                return self.value(body, inner_scope, depth + 1)
        if kind == "with_expression":
            env, body = node.child_by_field_name("environment"), node.child_by_field_name("body")
            if env is not None and body is not None:
                return self.value(body, _Scope(scope, withs=(_collapse(_t(env)),)), depth + 1)
        self._scan_fetchers(node)
        return Value("expr", _collapse(_t(node)), line, end, dynamic=True)

    def _string(self, node: Node, scope: _Scope, depth: int, line: int, end: int) -> Value:
        indented = node.type == "indented_string_expression"
        parts: list[str] = []
        dynamic = False
        for child in node.named_children:
            if child.type == "string_fragment":
                raw = _t(child)
                parts.append(_unescape_indented(raw) if indented else _unescape(raw))
            elif child.type == "escape_sequence":
                raw = _t(child)
                parts.append(_unescape_indented(raw) if indented else _unescape(raw))
            elif child.type in ("interpolation", "dollar_escape"):
                if child.type == "dollar_escape":
                    parts.append("$")
                    continue
                inner = _named(child)
                v = self.value(inner[0], scope, depth + 1) if inner else None
                if v is not None and v.kind in ("str", "int", "path") and not v.dynamic and v.condition is None:
                    parts.append(v.text)
                else:
                    parts.append(
                        "${" + (v.display() if v is not None and v.kind != "str" else _collapse(_t(inner[0])) if inner else "") + "}"
                    )
                    dynamic = True
        text = _dedent(parts) if indented else "".join(parts)
        return Value("str", text, line, end, dynamic=dynamic)

    def _variable(self, node: Node, scope: _Scope, depth: int, line: int, end: int) -> Value:
        name = _t(node)
        if name in ("true", "false"):
            return Value("bool", name, line, end)
        if name == "null":
            return Value("null", name, line, end)
        bound = scope.lookup(name)
        if bound is not None:
            target, target_scope = bound
            v = self.value(target, target_scope or scope, depth + 1)
            if v.kind in LITERAL_KINDS and not v.dynamic:
                return Value(v.kind, v.text, line, end, v.condition, v.items, v.dynamic)
            return Value("ref", name, line, end, dynamic=True)
        env = scope.with_env()
        if env is not None:
            return Value("ref", f"{env}.{name}", line, end, dynamic=True)
        return Value("ref", name, line, end, dynamic=True)

    def _select(self, node: Node, scope: _Scope, depth: int, line: int, end: int) -> Value:
        if any(c.type == "or" for c in node.children):
            return Value("expr", _collapse(_t(node)), line, end, dynamic=True)
        base = node.child_by_field_name("expression")
        path = node.child_by_field_name("attrpath")
        names = self.attrpath(path, scope) if path is not None else None
        if base is None or names is None:
            return Value("expr", _collapse(_t(node)), line, end, dynamic=True)
        if base.type == "variable_expression":
            name = _t(base)
            bound = scope.lookup(name)
            if bound is not None and bound[0].type in ("attrset_expression", "rec_attrset_expression"):
                sub = Facts()
                _Reader(sub, self.row0).attrs(bound[0], (), bound[1] or scope, None, depth + 1)
                hit = sub.values.get(tuple(names))
                if hit is not None and hit.kind in LITERAL_KINDS and not hit.dynamic:
                    return Value(hit.kind, hit.text, line, end, hit.condition, hit.items)
            if bound is None and scope.with_env() is not None and name not in ("pkgs", "lib", "config", "builtins", "inputs"):
                name = f"{scope.with_env()}.{name}"
            text = ".".join([name, *names])
            if _FETCHER.search(text):
                self.facts.fetchers.append((text, line))
            return Value("ref", text, line, end, dynamic=True)
        return Value("expr", _collapse(_t(node)), line, end, dynamic=True)

    def _binary(self, node: Node, scope: _Scope, depth: int, line: int, end: int) -> Value:
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or left is None or right is None:
            return Value("expr", _collapse(_t(node)), line, end, dynamic=True)
        opt = _t(op)
        if opt == "++":
            # A chain `a ++ b ++ c …` is walked without recursion: however long, every operand is read.
            items: list[Value] = []
            for operand in _concat_operands(node):
                v = self.value(operand, scope, depth + 1)
                items.extend(v.items if v.kind == "list" else (v,))
            return Value(
                "list",
                "[ " + " ".join(i.display() for i in items) + " ]",
                line,
                end,
                items=tuple(items),
                dynamic=any(i.dynamic for i in items),
            )
        lv, rv = self.value(left, scope, depth + 1), self.value(right, scope, depth + 1)
        if opt == "+" and lv.kind == "str" and rv.kind == "str" and lv.condition is None and rv.condition is None:
            return Value("str", lv.text + rv.text, line, end, dynamic=lv.dynamic or rv.dynamic)
        return Value("expr", _collapse(_t(node)), line, end, dynamic=True)

    def call(self, node: Node) -> tuple[str, list[Node]]:
        """`f a b` → ("f" as written without the lib. prefix, [a, b])."""
        args: list[Node] = []
        fn = node
        while fn.type == "apply_expression":
            arg = fn.child_by_field_name("argument")
            if arg is not None:
                args.append(arg)
            nxt = fn.child_by_field_name("function")
            if nxt is None:
                break
            fn = nxt
        args.reverse()
        name = _collapse(_t(fn)) if fn.type in ("variable_expression", "select_expression") else ""
        for prefix in _LIB_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        return name, args

    def _apply(self, node: Node, scope: _Scope, depth: int, line: int, end: int) -> Value:
        name, args = self.call(node)
        if name in _WRAPPERS_UNWRAP and len(args) == _WRAPPERS_UNWRAP[name]:
            return self.value(args[-1], scope, depth + 1)
        if name in ("optionals", "optional", "optionalString", "optionalAttrs", "mkIf") and len(args) == 2:
            cond = _collapse(_t(args[0]))
            inner = self.value(args[1], scope, depth + 1)
            if name == "optional":
                inner = Value("list", "[ " + inner.display() + " ]", inner.line, inner.end_line, items=(inner,), dynamic=inner.dynamic)
            v = inner.with_condition(cond)
            return Value(v.kind, v.text, line, end, v.condition, v.items, v.dynamic)
        self._scan_fetchers(node)
        return Value("expr", _collapse(_t(node)), line, end, dynamic=True)

    def _scan_fetchers(self, node: Node) -> None:
        """Fetchers inside an expression kept as written still count as new code sources."""
        stack = [node]
        seen = 0
        while stack and seen < 5000:
            n = stack.pop()
            seen += 1
            if n.type == "select_expression" or (
                n.type == "variable_expression" and n.parent is not None and n.parent.type == "apply_expression"
            ):
                text = _collapse(_t(n))
                if _FETCHER.search(text):
                    self.facts.fetchers.append((text, self._line(n)))
                    continue
            stack.extend(n.named_children)

    # ---- attribute sets -----------------------------------------------------------------------
    def attrpath(self, node: Node, scope: _Scope) -> list[str] | None:
        names: list[str] = []
        for part in _named(node):
            if part.type == "identifier":
                names.append(_t(part))
            elif part.type == "string_expression":
                v = self._string(part, scope, 0, 0, 0)
                if v.dynamic:
                    return None
                names.append(v.text)
            else:
                return None
        return names

    def _let_scope(self, node: Node, scope: _Scope) -> _Scope:
        inner = _Scope(scope)
        for bs in node.named_children:
            if bs.type == "binding_set":
                self._bind_names(bs, inner)
        return inner

    def _bind_names(self, binding_set: Node, into: _Scope) -> None:
        for b in binding_set.named_children:
            if b.type == "binding":
                ap, ex = b.child_by_field_name("attrpath"), b.child_by_field_name("expression")
                if ap is None or ex is None:
                    continue
                parts = _named(ap)
                if len(parts) == 1 and parts[0].type == "identifier":
                    into.names[_t(parts[0])] = (ex, into)
            elif b.type in ("inherit", "inherit_from"):
                pass  # `inherit x;` in a let binds a name to itself from outside: nothing literal to follow

    def attrs(self, node: Node, prefix: Path, scope: _Scope, condition: str | None, depth: int) -> None:
        if node.type == "rec_attrset_expression":
            scope = _Scope(scope)
            for bs in node.named_children:
                if bs.type == "binding_set":
                    self._bind_names(bs, scope)
        for bs in node.named_children:
            if bs.type != "binding_set":
                continue
            for b in bs.named_children:
                if b.type == "binding":
                    self._binding(b, prefix, scope, condition, depth)
                elif b.type == "inherit":
                    self._inherit(b, None, prefix, scope, condition)
                elif b.type == "inherit_from":
                    self._inherit(b, b.child_by_field_name("expression"), prefix, scope, condition)
        if not any(bs.type == "binding_set" and _named(bs) for bs in node.named_children) and prefix:
            self.put(prefix, Value("attrs", "{}", self._line(node), self._end(node), condition))

    def _inherit(self, node: Node, source: Node | None, prefix: Path, scope: _Scope, condition: str | None) -> None:
        attrs = node.child_by_field_name("attrs")
        if attrs is None:
            return
        src = _collapse(_t(source)) if source is not None else None
        for ident in _named(attrs):
            name = _t(ident)
            line = self._line(ident)
            if src is not None:
                v = Value("ref", f"{src}.{name}", line, line, dynamic=True)
            else:
                v = self._variable(ident, scope, 0, line, line)
            self.put((*prefix, name), v.with_condition(condition))

    def _binding(self, b: Node, prefix: Path, scope: _Scope, condition: str | None, depth: int) -> None:
        ap, ex = b.child_by_field_name("attrpath"), b.child_by_field_name("expression")
        if ap is None or ex is None:
            self.facts.unparsed.append(Unparsed(self._line(b), "an incomplete binding"))
            return
        names = self.attrpath(ap, scope)
        if names is None:
            self.facts.unparsed.append(Unparsed(self._line(b), f"a computed attribute name: {_collapse(_t(ap))[:80]}"))
            return
        self.module_value(ex, (*prefix, *names), scope, condition, depth + 1)

    def module_value(self, node: Node, path: Path, scope: _Scope, condition: str | None, depth: int) -> None:
        """A value at a path of the module: attribute sets are flattened, wrappers seen through."""
        if depth > _MAX_DEPTH:
            self.put(path, Value("expr", _collapse(_t(node)), self._line(node), self._end(node), condition, dynamic=True))
            return
        kind = node.type
        if kind == "parenthesized_expression":
            inner = _named(node)
            if inner:
                self.module_value(inner[0], path, scope, condition, depth + 1)
                return
        if kind in ("attrset_expression", "rec_attrset_expression"):
            self.attrs(node, path, scope, condition, depth + 1)
            return
        if kind == "let_expression":
            body = node.child_by_field_name("body")
            if body is not None:
                self.module_value(body, path, self._let_scope(node, scope), condition, depth + 1)
                return
        if kind == "with_expression":
            env, body = node.child_by_field_name("environment"), node.child_by_field_name("body")
            if env is not None and body is not None:
                self.module_value(body, path, _Scope(scope, withs=(_collapse(_t(env)),)), condition, depth + 1)
                return
        if kind == "variable_expression":
            bound = scope.lookup(_t(node))
            if bound is not None and bound[0].type in ("attrset_expression", "rec_attrset_expression"):
                self.attrs(bound[0], path, bound[1] or scope, condition, depth + 1)
                return
        if kind == "binary_expression":
            op = node.child_by_field_name("operator")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op is not None and _t(op) == "//" and left is not None and right is not None and _is_attrs(left) and _is_attrs(right):
                self.module_value(left, path, scope, condition, depth + 1)
                self.module_value(right, path, scope, condition, depth + 1)
                return
        if kind == "apply_expression":
            name, args = self.call(node)
            if name in _WRAPPERS_UNWRAP and len(args) == _WRAPPERS_UNWRAP[name]:
                self.module_value(args[-1], path, scope, condition, depth + 1)
                return
            if name in ("mkIf", "optionalAttrs") and len(args) == 2 and _is_attrs(args[1]):
                cond = _collapse(_t(args[0]))
                both = cond if condition is None else f"({condition}) && ({cond})"
                self.module_value(args[1], path, scope, both, depth + 1)
                return
            if name == "mkMerge" and len(args) == 1 and args[0].type == "list_expression":
                for element in _named(args[0]):
                    self.module_value(element, path, scope, condition, depth + 1)
                return
        self.put(path, self.value(node, scope, depth + 1).with_condition(condition))

    def put(self, path: Path, value: Value) -> None:
        old = self.facts.values.get(path)
        if old is not None and old.kind == "list" and value.kind == "list":
            # The module system concatenates list definitions (mkMerge, a list defined twice in a merge);
            # joined once at the end (`finish`), not on every definition.
            self.merged.setdefault(path, [old]).append(value)
        self.facts.values[path] = value

    def finish(self) -> None:
        for path, parts in self.merged.items():
            items = tuple(i for part in parts for i in part.items)
            text = "[ " + " ".join(i.display() for i in items) + " ]"
            self.facts.values[path] = Value("list", text, parts[0].line, parts[-1].end_line, None, items, any(p.dynamic for p in parts))
        self.merged.clear()


def _concat_operands(node: Node) -> list[Node]:
    """The operands of a `++` chain in order (parenthesised sub-chains stay one operand)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        op = n.child_by_field_name("operator") if n.type == "binary_expression" else None
        if op is not None and _t(op) == "++":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            stack.extend(x for x in (right, left) if x is not None)
        else:
            out.append(n)
    return out


def _is_attrs(node: Node) -> bool:
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node.type in (
        "attrset_expression",
        "rec_attrset_expression",
        "let_expression",
        "with_expression",
        "apply_expression",
        "variable_expression",
    )


def _errors(root: Node, limit: int = 20) -> list[Unparsed]:
    out: list[Unparsed] = []
    stack = [root]
    while stack and len(out) < limit:
        n = stack.pop()
        if n.is_error or n.is_missing:
            what = f"missing {n.type}" if n.is_missing else "a syntax error"
            out.append(Unparsed(n.start_point[0] + 1, what))
            continue
        if n.has_error:
            stack.extend(reversed(n.children))
    return sorted(out, key=lambda u: u.line)


@dataclass(frozen=True)
class _Piece:
    """The facts of one top-level binding, lines relative to its first row."""

    values: tuple[tuple[Path, Value], ...]
    unparsed: tuple[Unparsed, ...]
    fetchers: tuple[tuple[str, int], ...]


class _LRU:
    """A small thread-safe LRU map (the card is computed in worker threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            hit = self.data.get(key)
            if hit is not None:
                self.data.move_to_end(key)
            return hit

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_PIECES = _LRU(50_000)  # (scope digest, binding bytes) → _Piece
_TREES = _LRU(16)  # content digest → (source, Tree): the base of an incremental re-parse
_FACTS = _LRU(64)  # content digest → Facts


def clear_caches() -> None:
    """Forget every cached tree, binding and module (benchmarks measure a cold start with it)."""
    for cache in (_PIECES, _TREES, _FACTS):
        with cache.lock:
            cache.data.clear()


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _line_starts(lines: list[bytes]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    return starts


def _edits(old: bytes, new: bytes) -> list[tuple[int, int, int, int]]:
    """Line ranges that differ, as (old_start, old_end, new_start, new_end) line indices, in order.

    Correct, not minimal: a common prefix and suffix, then lines unique to both sides as anchors (their
    longest increasing run, as in patience diff), gaps between anchors trimmed. Linear-ish, so the
    re-parse of a proposal touching a few places re-reads only those places.
    """
    a, b = old.split(b"\n"), new.split(b"\n")
    lo, ha, hb = 0, len(a), len(b)
    while lo < ha and lo < hb and a[lo] == b[lo]:
        lo += 1
    while ha > lo and hb > lo and a[ha - 1] == b[hb - 1]:
        ha, hb = ha - 1, hb - 1
    if ha - lo < 40 or hb - lo < 40:
        return [] if lo == ha == hb else [(lo, ha, lo, hb)]
    count_a: dict[bytes, int] = {}
    where_a: dict[bytes, int] = {}
    for i in range(lo, ha):
        count_a[a[i]] = count_a.get(a[i], 0) + 1
        where_a[a[i]] = i
    count_b: dict[bytes, int] = {}
    for j in range(lo, hb):
        count_b[b[j]] = count_b.get(b[j], 0) + 1
    pairs = [(where_a[b[j]], j) for j in range(lo, hb) if count_b[b[j]] == 1 and count_a.get(b[j]) == 1]
    # Longest increasing subsequence of the old indices (pairs are in new order).
    tails: list[int] = []
    tail_idx: list[int] = []
    prev: list[int] = [-1] * len(pairs)
    for k, (ia, _ib) in enumerate(pairs):
        pos = bisect_left(tails, ia)
        if pos == len(tails):
            tails.append(ia)
            tail_idx.append(k)
        else:
            tails[pos] = ia
            tail_idx[pos] = k
        prev[k] = tail_idx[pos - 1] if pos else -1
    chain: list[tuple[int, int]] = []
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        chain.append(pairs[k])
        k = prev[k]
    chain.reverse()
    out: list[tuple[int, int, int, int]] = []
    pa, pb = lo, lo
    for ia, ib in [*chain, (ha, hb)]:
        if ia < pa or ib < pb:
            continue
        s_a, s_b, e_a, e_b = pa, pb, ia, ib
        while s_a < e_a and s_b < e_b and a[s_a] == b[s_b]:
            s_a, s_b = s_a + 1, s_b + 1
        while e_a > s_a and e_b > s_b and a[e_a - 1] == b[e_b - 1]:
            e_a, e_b = e_a - 1, e_b - 1
        if s_a != e_a or s_b != e_b:
            out.append((s_a, e_a, s_b, e_b))
        pa, pb = ia, ib
        while pa < ha and pb < hb and a[pa] == b[pb]:
            pa, pb = pa + 1, pb + 1
    return out


def _parse(source: bytes, previous: bytes | None) -> Tree:
    """Parse, re-using the tree of `previous` (a version of the same file) when it is cached."""
    from tree_sitter import Point

    base = _TREES.get(_digest(previous)) if previous is not None else None
    old_tree = None
    if base is not None:
        old_src, tree = base
        old_lines, new_lines = old_src.split(b"\n"), source.split(b"\n")
        old_starts, new_starts = _line_starts(old_lines), _line_starts(new_lines)
        old_tree = tree.copy()
        # Last edit first: the positions before an edit are the same in the old and the partly edited text.
        for la, ea, lb, eb in reversed(_edits(old_src, source)):
            start = old_starts[la]
            old_end = min(old_starts[ea], len(old_src))
            new_len = min(new_starts[eb], len(source)) - new_starts[lb]
            rows = eb - lb
            old_tree.edit(
                start_byte=start,
                old_end_byte=old_end,
                new_end_byte=start + new_len,
                start_point=Point(la, 0),
                old_end_point=Point(ea, 0) if old_starts[ea] <= len(old_src) else Point(ea - 1, len(old_lines[ea - 1])),
                new_end_point=Point(la + rows, 0) if new_starts[eb] <= len(source) else Point(la + rows - 1, len(new_lines[eb - 1])),
            )
    tree = _parser().parse(source, old_tree) if old_tree is not None else _parser().parse(source)
    _TREES.put(_digest(source), (source, tree))
    return tree


def _top(root: Node, reader: _Reader) -> tuple[Node, _Scope]:
    """Past the module's `{ pkgs, ... }:`, `let … in` and `with …;` to its body."""
    exprs = _named(root)
    node = exprs[0]
    scope = _Scope()
    for _ in range(_MAX_DEPTH):
        if node.type == "function_expression":
            body = node.child_by_field_name("body")
            if body is None:
                break
            node = body
        elif node.type == "let_expression":
            scope = reader._let_scope(node, scope)
            body = node.child_by_field_name("body")
            if body is None:
                break
            node = body
        elif node.type == "with_expression":
            env, body = node.child_by_field_name("environment"), node.child_by_field_name("body")
            if env is None or body is None:
                break
            scope = _Scope(scope, withs=(_collapse(_t(env)),))
            node = body
        elif node.type == "parenthesized_expression" and _named(node):
            node = _named(node)[0]
        else:
            break
    return node, scope


def _piece(binding: Node, scope: _Scope, scope_key: bytes | None) -> _Piece:
    text = binding.text or b""
    key = (scope_key, binding.type, text) if scope_key is not None else None
    if key is not None:
        hit: _Piece | None = _PIECES.get(key)
        if hit is not None:
            return hit
    facts = Facts()
    reader = _Reader(facts, int(binding.start_point[0]))
    if binding.type == "binding":
        reader._binding(binding, (), scope, None, 0)
    elif binding.type == "inherit":
        reader._inherit(binding, None, (), scope, None)
    elif binding.type == "inherit_from":
        reader._inherit(binding, binding.child_by_field_name("expression"), (), scope, None)
    reader.finish()
    piece = _Piece(tuple(facts.values.items()), tuple(facts.unparsed), tuple(facts.fetchers))
    if key is not None:
        _PIECES.put(key, piece)
    return piece


def parse_module(source: bytes, previous: bytes | None = None) -> Facts:
    """Facts of one devenv module (`devenv.nix`, `devenv.local.nix`), cached by content.

    `previous` (an earlier version of the same file, e.g. the baseline) lets tree-sitter re-parse
    incrementally; top-level bindings whose text and scope did not change reuse their facts.
    """
    digest = _digest(source)
    cached: Facts | None = _FACTS.get(digest)
    if cached is not None:
        return cached
    facts = Facts()
    tree = _parse(source, previous)
    root = tree.root_node
    if root.has_error:
        facts.syntax_error = True
        facts.unparsed.extend(_errors(root))
    if not _named(root):
        if source.strip() and not root.has_error:
            facts.unparsed.append(Unparsed(1, "no expression"))
        _FACTS.put(digest, facts)
        return facts
    reader = _Reader(facts)
    node, scope = _top(root, reader)
    if node.type == "attrset_expression":
        # The scope is everything before the body's `{` (formals, let, with): same bytes, same meaning.
        scope_key = _digest(source[: node.start_byte]) if not root.has_error else None
        merged: dict[Path, list[tuple[Value, int]]] = {}
        for bs in node.named_children:
            if bs.type != "binding_set":
                continue
            for b in bs.named_children:
                if b.type not in ("binding", "inherit", "inherit_from"):
                    continue
                row0 = int(b.start_point[0])
                piece = _piece(b, scope, scope_key)
                for path, value in piece.values:
                    old = facts.values.get(path)
                    if old is not None and old.kind == "list" and value.kind == "list":
                        merged.setdefault(path, [(old, facts.offsets[path])]).append((value, row0))
                    facts.values[path] = value
                    facts.offsets[path] = row0
                if piece.unparsed:
                    facts.unparsed.extend(Unparsed(u.line + row0, u.why) for u in piece.unparsed)
                if piece.fetchers:
                    facts.fetchers.extend((f, line + row0) for f, line in piece.fetchers)
        for path, parts in merged.items():
            items = tuple(_shift(i, off) for v, off in parts for i in v.items)
            text = "[ " + " ".join(i.display() for i in items) + " ]"
            facts.values[path] = Value(
                "list",
                text,
                parts[0][0].line + parts[0][1],
                parts[-1][0].end_line + parts[-1][1],
                None,
                items,
                any(v.dynamic for v, _ in parts),
            )
            facts.offsets[path] = 0
    elif node.type == "rec_attrset_expression" or (node.type == "apply_expression" and reader.call(node)[0] in ("mkMerge", "mkIf")):
        reader.module_value(node, (), scope, None, 0)
        reader.finish()
    elif not root.has_error:
        facts.unparsed.append(Unparsed(node.start_point[0] + 1, f"the module is not an attribute set ({node.type.replace('_', ' ')})"))
    _FACTS.put(digest, facts)
    return facts


def _shift(v: Value, by: int) -> Value:
    return Value(v.kind, v.text, v.line + by, v.end_line + by, v.condition, tuple(_shift(i, by) for i in v.items), v.dynamic) if by else v
