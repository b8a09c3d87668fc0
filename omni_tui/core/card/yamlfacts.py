"""devenv.yaml → flat facts with line numbers: `inputs`, `imports`, `allow_unfree`, insecure packages, the rest.

Read with PyYAML's safe composer (no tags, no Python objects) so every value keeps its line; aliases
are followed at most a bounded number of nodes (an alias bomb is reported, not expanded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omni_tui.core.card.nixfacts import Path, Unparsed, Value

_MAX_NODES = 20_000


@dataclass
class YamlFacts:
    values: dict[Path, Value] = field(default_factory=dict)
    unparsed: list[Unparsed] = field(default_factory=list)
    grouped: Any = field(default=None, compare=False, repr=False)


def _scalar(node: Any) -> Value:
    line = int(node.start_mark.line) + 1
    tag = str(node.tag)
    text = str(node.value)
    if tag.endswith(":bool"):
        return Value("bool", text.lower(), line, line)
    if tag.endswith(":int"):
        return Value("int", text, line, line)
    if tag.endswith(":float"):
        return Value("float", text, line, line)
    if tag.endswith(":null"):
        return Value("null", "null", line, line)
    return Value("str", text, line, line)


def parse_yaml(source: bytes) -> YamlFacts:
    import yaml
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    facts = YamlFacts()
    try:
        root = yaml.compose(source.decode("utf-8"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        facts.unparsed.append(Unparsed(1, "devenv.yaml is not UTF-8"))
        return facts
    except RecursionError:  # PyYAML's composer recurses per level: `[[[[…` deeper than Python's stack
        facts.unparsed.append(Unparsed(1, "devenv.yaml: too deeply nested to read"))
        return facts
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        facts.unparsed.append(
            Unparsed(int(mark.line) + 1 if mark is not None else 1, f"devenv.yaml: {getattr(exc, 'problem', None) or 'invalid YAML'}")
        )
        return facts
    if root is None:
        return facts
    budget = [_MAX_NODES]

    def value(node: Any, depth: int) -> Value:
        budget[0] -= 1
        line = int(node.start_mark.line) + 1
        if budget[0] < 0 or depth > 32:
            raise OverflowError(line)
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if isinstance(node, SequenceNode):
            items = tuple(value(i, depth + 1) for i in node.value)
            return Value("list", "[ " + " ".join(i.display() for i in items) + " ]", line, int(node.end_mark.line) + 1, items=items)
        parts = []
        for k, v in node.value:
            parts.append(f"{k.value if isinstance(k, ScalarNode) else '?'} = {value(v, depth + 1).display()};")
        return Value("attrs", "{ " + " ".join(parts) + " }", line, int(node.end_mark.line) + 1)

    def walk(node: Any, path: Path, depth: int) -> None:
        if isinstance(node, MappingNode) and node.value and depth < 32:
            for k, v in node.value:
                if not isinstance(k, ScalarNode):
                    facts.unparsed.append(Unparsed(int(k.start_mark.line) + 1, "devenv.yaml: a key that is not a plain value"))
                    continue
                walk(v, (*path, str(k.value)), depth + 1)
            return
        if path:
            facts.values[path] = value(node, depth)
        else:
            facts.unparsed.append(Unparsed(int(node.start_mark.line) + 1, "devenv.yaml is not a mapping"))

    try:
        walk(root, (), 0)
    except OverflowError as exc:
        facts.values.clear()
        facts.unparsed.append(Unparsed(int(exc.args[0]), "devenv.yaml: too deeply nested or too many nodes (aliases?)"))
    return facts
