"""Reading tree-sitter-nix nodes into `Value`s and flat facts, statically (nothing is evaluated).

`Reader.value` turns an expression into a `Value` (strings unescaped and dedented, `let` names and
`with` environments followed where literal, `optionals`/`mkIf` conditions kept, wrappers seen
through); `Reader.attrs` / `module_value` flatten attribute sets into paths; `Scope` holds the names
in reach. Fetcher calls met on the way are collected as new code sources.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from omni_tui.core.card.nixfacts import LITERAL_KINDS, Facts, Path, Unparsed, Value

if TYPE_CHECKING:
    from tree_sitter import Node

MAX_DEPTH = 64  # nesting / let-following depth; deeper is reported as written
_WS = re.compile(r"\s+")
_FETCHER = re.compile(r"(?:^|\.)(fetch[A-Za-z0-9]*|getFlake)$")
_WRAPPERS_UNWRAP = {"mkDefault": 1, "mkForce": 1, "mkBefore": 1, "mkAfter": 1, "mkOverride": 2, "mkOrder": 2, "mkOptionDefault": 1}
_LIB_PREFIXES = ("pkgs.lib.", "lib.lists.", "lib.strings.", "lib.attrsets.", "lib.modules.", "lib.trivial.", "lib.")


def node_text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


class Scope:
    """Names in reach: let/rec bindings (node + the scope they were bound in) and `with` environments."""

    __slots__ = ("names", "withs", "parent")

    def __init__(
        self, parent: Scope | None = None, names: dict[str, tuple[Node, Scope | None]] | None = None, withs: tuple[str, ...] = ()
    ) -> None:
        self.parent = parent
        self.names = names or {}
        self.withs = withs

    def lookup(self, name: str) -> tuple[Node, Scope | None] | None:
        s: Scope | None = self
        while s is not None:
            hit = s.names.get(name)
            if hit is not None:
                return hit
            s = s.parent
        return None

    def with_env(self) -> str | None:
        s: Scope | None = self
        while s is not None:
            if s.withs:
                return s.withs[-1]
            s = s.parent
        return None


def named(node: Node) -> list[Node]:
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


class Reader:
    def __init__(self, facts: Facts, row0: int = 0) -> None:
        self.facts = facts
        self.row0 = row0  # lines are counted from this row (the top-level binding's), see `Facts`
        self.merged: dict[Path, list[Value]] = {}

    def _line(self, node: Node) -> int:
        return int(node.start_point[0]) + 1 - self.row0

    def _end(self, node: Node) -> int:
        return int(node.end_point[0]) + 1 - self.row0

    # ---- values -------------------------------------------------------------------------------
    def value(self, node: Node, scope: Scope, depth: int = 0) -> Value:
        line, end = self._line(node), self._end(node)
        kind = node.type
        if depth > MAX_DEPTH:
            return Value("expr", collapse(node_text(node)), line, end, dynamic=True)
        if kind == "parenthesized_expression":
            inner = named(node)
            return self.value(inner[0], scope, depth + 1) if inner else Value("expr", "()", line, end, dynamic=True)
        if kind == "string_expression" or kind == "indented_string_expression":
            return self._string(node, scope, depth, line, end)
        if kind == "integer_expression":
            return Value("int", node_text(node), line, end)
        if kind == "float_expression":
            return Value("float", node_text(node), line, end)
        if kind in ("path_expression", "hpath_expression", "spath_expression"):
            return Value("path", node_text(node), line, end)
        if kind == "uri_expression":
            return Value("str", node_text(node), line, end)
        if kind == "variable_expression":
            return self._variable(node, scope, depth, line, end)
        if kind == "select_expression":
            return self._select(node, scope, depth, line, end)
        if kind == "list_expression":
            items: list[Value] = []
            for element in named(node):
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
            nested = Reader(sub, self.row0)
            nested.attrs(node, (), scope, None, depth + 1)
            nested.finish()
            self.facts.fetchers.extend(sub.fetchers)
            self.facts.unparsed.extend(sub.unparsed)
            shown = " ".join(f"{'.'.join(p)} = {v.display()};" for p, v in sub.values.items())
            dynamic = any(v.dynamic for v in sub.values.values())
            return Value("attrs", "{ " + shown + (" }" if shown else "}"), line, end, dynamic=dynamic)
        if kind == "function_expression":
            return Value("func", collapse(node_text(node)), line, end, dynamic=True)
        if kind == "let_expression":
            inner_scope = self.let_scope(node, scope)
            body = node.child_by_field_name("body")
            if body is not None:
                return self.value(body, inner_scope, depth + 1)
        if kind == "with_expression":
            env, body = node.child_by_field_name("environment"), node.child_by_field_name("body")
            if env is not None and body is not None:
                return self.value(body, Scope(scope, withs=(collapse(node_text(env)),)), depth + 1)
        self._scan_fetchers(node)
        return Value("expr", collapse(node_text(node)), line, end, dynamic=True)

    def _string(self, node: Node, scope: Scope, depth: int, line: int, end: int) -> Value:
        indented = node.type == "indented_string_expression"
        parts: list[str] = []
        dynamic = False
        for child in node.named_children:
            if child.type == "string_fragment":
                raw = node_text(child)
                parts.append(_unescape_indented(raw) if indented else _unescape(raw))
            elif child.type == "escape_sequence":
                raw = node_text(child)
                parts.append(_unescape_indented(raw) if indented else _unescape(raw))
            elif child.type in ("interpolation", "dollar_escape"):
                if child.type == "dollar_escape":
                    parts.append("$")
                    continue
                inner = named(child)
                v = self.value(inner[0], scope, depth + 1) if inner else None
                if v is not None and v.kind in ("str", "int", "path") and not v.dynamic and v.condition is None:
                    parts.append(v.text)
                else:
                    parts.append(
                        "${" + (v.display() if v is not None and v.kind != "str" else collapse(node_text(inner[0])) if inner else "") + "}"
                    )
                    dynamic = True
        text = _dedent(parts) if indented else "".join(parts)
        return Value("str", text, line, end, dynamic=dynamic)

    def _variable(self, node: Node, scope: Scope, depth: int, line: int, end: int) -> Value:
        name = node_text(node)
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

    def _select(self, node: Node, scope: Scope, depth: int, line: int, end: int) -> Value:
        if any(c.type == "or" for c in node.children):
            return Value("expr", collapse(node_text(node)), line, end, dynamic=True)
        base = node.child_by_field_name("expression")
        path = node.child_by_field_name("attrpath")
        names = self.attrpath(path, scope) if path is not None else None
        if base is None or names is None:
            return Value("expr", collapse(node_text(node)), line, end, dynamic=True)
        if base.type == "variable_expression":
            name = node_text(base)
            bound = scope.lookup(name)
            if bound is not None and bound[0].type in ("attrset_expression", "rec_attrset_expression"):
                sub = Facts()
                Reader(sub, self.row0).attrs(bound[0], (), bound[1] or scope, None, depth + 1)
                hit = sub.values.get(tuple(names))
                if hit is not None and hit.kind in LITERAL_KINDS and not hit.dynamic:
                    return Value(hit.kind, hit.text, line, end, hit.condition, hit.items)
            if bound is None and scope.with_env() is not None and name not in ("pkgs", "lib", "config", "builtins", "inputs"):
                name = f"{scope.with_env()}.{name}"
            text = ".".join([name, *names])
            if _FETCHER.search(text):
                self.facts.fetchers.append((text, line))
            return Value("ref", text, line, end, dynamic=True)
        return Value("expr", collapse(node_text(node)), line, end, dynamic=True)

    def _binary(self, node: Node, scope: Scope, depth: int, line: int, end: int) -> Value:
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or left is None or right is None:
            return Value("expr", collapse(node_text(node)), line, end, dynamic=True)
        opt = node_text(op)
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
        return Value("expr", collapse(node_text(node)), line, end, dynamic=True)

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
        name = collapse(node_text(fn)) if fn.type in ("variable_expression", "select_expression") else ""
        for prefix in _LIB_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        return name, args

    def _apply(self, node: Node, scope: Scope, depth: int, line: int, end: int) -> Value:
        name, args = self.call(node)
        if name in _WRAPPERS_UNWRAP and len(args) == _WRAPPERS_UNWRAP[name]:
            return self.value(args[-1], scope, depth + 1)
        if name in ("optionals", "optional", "optionalString", "optionalAttrs", "mkIf") and len(args) == 2:
            cond = collapse(node_text(args[0]))
            inner = self.value(args[1], scope, depth + 1)
            if name == "optional":
                inner = Value("list", "[ " + inner.display() + " ]", inner.line, inner.end_line, items=(inner,), dynamic=inner.dynamic)
            v = inner.with_condition(cond)
            return Value(v.kind, v.text, line, end, v.condition, v.items, v.dynamic)
        self._scan_fetchers(node)
        return Value("expr", collapse(node_text(node)), line, end, dynamic=True)

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
                text = collapse(node_text(n))
                if _FETCHER.search(text):
                    self.facts.fetchers.append((text, self._line(n)))
                    continue
            stack.extend(n.named_children)

    # ---- attribute sets -----------------------------------------------------------------------
    def attrpath(self, node: Node, scope: Scope) -> list[str] | None:
        names: list[str] = []
        for part in named(node):
            if part.type == "identifier":
                names.append(node_text(part))
            elif part.type == "string_expression":
                v = self._string(part, scope, 0, 0, 0)
                if v.dynamic:
                    return None
                names.append(v.text)
            else:
                return None
        return names

    def let_scope(self, node: Node, scope: Scope) -> Scope:
        inner = Scope(scope)
        for bs in node.named_children:
            if bs.type == "binding_set":
                self._bind_names(bs, inner)
        return inner

    def _bind_names(self, binding_set: Node, into: Scope) -> None:
        for b in binding_set.named_children:
            if b.type == "binding":
                ap, ex = b.child_by_field_name("attrpath"), b.child_by_field_name("expression")
                if ap is None or ex is None:
                    continue
                parts = named(ap)
                if len(parts) == 1 and parts[0].type == "identifier":
                    into.names[node_text(parts[0])] = (ex, into)
            elif b.type in ("inherit", "inherit_from"):
                pass  # `inherit x;` in a let binds a name to itself from outside: nothing literal to follow

    def attrs(self, node: Node, prefix: Path, scope: Scope, condition: str | None, depth: int) -> None:
        if node.type == "rec_attrset_expression":
            scope = Scope(scope)
            for bs in node.named_children:
                if bs.type == "binding_set":
                    self._bind_names(bs, scope)
        for bs in node.named_children:
            if bs.type != "binding_set":
                continue
            for b in bs.named_children:
                if b.type == "binding":
                    self.read_binding(b, prefix, scope, condition, depth)
                elif b.type == "inherit":
                    self.read_inherit(b, None, prefix, scope, condition)
                elif b.type == "inherit_from":
                    self.read_inherit(b, b.child_by_field_name("expression"), prefix, scope, condition)
        if not any(bs.type == "binding_set" and named(bs) for bs in node.named_children) and prefix:
            self.put(prefix, Value("attrs", "{}", self._line(node), self._end(node), condition))

    def read_inherit(self, node: Node, source: Node | None, prefix: Path, scope: Scope, condition: str | None) -> None:
        attrs = node.child_by_field_name("attrs")
        if attrs is None:
            return
        src = collapse(node_text(source)) if source is not None else None
        for ident in named(attrs):
            name = node_text(ident)
            line = self._line(ident)
            if src is not None:
                v = Value("ref", f"{src}.{name}", line, line, dynamic=True)
            else:
                v = self._variable(ident, scope, 0, line, line)
            self.put((*prefix, name), v.with_condition(condition))

    def read_binding(self, b: Node, prefix: Path, scope: Scope, condition: str | None, depth: int) -> None:
        ap, ex = b.child_by_field_name("attrpath"), b.child_by_field_name("expression")
        if ap is None or ex is None:
            self.facts.unparsed.append(Unparsed(self._line(b), "an incomplete binding"))
            return
        names = self.attrpath(ap, scope)
        if names is None:
            self.facts.unparsed.append(Unparsed(self._line(b), f"a computed attribute name: {collapse(node_text(ap))[:80]}"))
            return
        self.module_value(ex, (*prefix, *names), scope, condition, depth + 1)

    def module_value(self, node: Node, path: Path, scope: Scope, condition: str | None, depth: int) -> None:
        """A value at a path of the module: attribute sets are flattened, wrappers seen through."""
        if depth > MAX_DEPTH:
            self.put(path, Value("expr", collapse(node_text(node)), self._line(node), self._end(node), condition, dynamic=True))
            return
        kind = node.type
        if kind == "parenthesized_expression":
            inner = named(node)
            if inner:
                self.module_value(inner[0], path, scope, condition, depth + 1)
                return
        if kind in ("attrset_expression", "rec_attrset_expression"):
            self.attrs(node, path, scope, condition, depth + 1)
            return
        if kind == "let_expression":
            body = node.child_by_field_name("body")
            if body is not None:
                self.module_value(body, path, self.let_scope(node, scope), condition, depth + 1)
                return
        if kind == "with_expression":
            env, body = node.child_by_field_name("environment"), node.child_by_field_name("body")
            if env is not None and body is not None:
                self.module_value(body, path, Scope(scope, withs=(collapse(node_text(env)),)), condition, depth + 1)
                return
        if kind == "variable_expression":
            bound = scope.lookup(node_text(node))
            if bound is not None and bound[0].type in ("attrset_expression", "rec_attrset_expression"):
                self.attrs(bound[0], path, bound[1] or scope, condition, depth + 1)
                return
        if kind == "binary_expression":
            op = node.child_by_field_name("operator")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op is not None and node_text(op) == "//" and left is not None and right is not None and _is_attrs(left) and _is_attrs(right):
                self.module_value(left, path, scope, condition, depth + 1)
                self.module_value(right, path, scope, condition, depth + 1)
                return
        if kind == "apply_expression":
            name, args = self.call(node)
            if name in _WRAPPERS_UNWRAP and len(args) == _WRAPPERS_UNWRAP[name]:
                self.module_value(args[-1], path, scope, condition, depth + 1)
                return
            if name in ("mkIf", "optionalAttrs") and len(args) == 2 and _is_attrs(args[1]):
                cond = collapse(node_text(args[0]))
                both = cond if condition is None else f"({condition}) && ({cond})"
                self.module_value(args[1], path, scope, both, depth + 1)
                return
            if name == "mkMerge" and len(args) == 1 and args[0].type == "list_expression":
                for element in named(args[0]):
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
        if op is not None and node_text(op) == "++":
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


def syntax_errors(root: Node, limit: int = 20) -> list[Unparsed]:
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
