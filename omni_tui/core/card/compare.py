"""Comparing two versions of a module's facts (or of an `.envrc`) into card entries and risks.

Entities (languages, services, processes, scripts, tasks, inputs, git hooks) are compared as wholes
or toggles, package and import lists item by item, shell hooks and `.envrc` line by line; what no
category claims is compared as "other". Risks (new code sources, unfree packages, network services,
code run on shell entry or on cd, secrets, agent permissions, unparsed places) are raised as they are met.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from omni_tui.core.card.builder import CardBuilder, Entry, make_entry, show_value
from omni_tui.core.card.categories import (
    BINARY_CACHE_PATHS,
    GIT_HOOK_COMMANDS,
    INSTALL_ON_ENTRY,
    PORT_OPTIONS,
    SERVICE_PORTS,
    UNFREE_KEYS,
    nix_category,
    program_env,
    written_file_risk,
    yaml_category,
)
from omni_tui.core.card.nixfacts import Facts, Path, Unparsed, Value
from omni_tui.core.card.secrets import inert, mask_text, mask_value
from omni_tui.core.card.yamlfacts import YamlFacts
from omni_tui.core.linematch import line_changes


# ---- entity state (languages, services, git hooks) ---------------------------------------------
def _state(sub: Mapping[Path, Value]) -> tuple[str, Value | None]:
    """ "on", "off", or "maybe" (enable is conditional or not literal) and the enable value."""
    v = sub.get(("enable",))
    if v is None:
        return "off", None
    if v.kind == "bool" and v.condition is None:
        return ("on" if v.text == "true" else "off"), v
    if v.kind == "bool" and v.text == "false":
        return "off", v
    return "maybe", v


def _changes(
    before: Mapping[Path, Value], after: Mapping[Path, Value], name: str, file: str, b: CardBuilder, lines: Mapping[Path, int]
) -> list[Entry]:
    out: list[Entry] = []
    for sub in sorted(set(before) | set(after)):
        old, new = before.get(sub), after.get(sub)
        if old is not None and new is not None and old.key == new.key:
            continue
        option = ".".join(sub)
        full = f"{name}.{option}" if option else name
        out.append(
            {
                "option": inert(option, 160),
                "before": show_value(old, full),
                "after": show_value(new, full, b, file, lines.get(sub)),
            }
        )
    return out


@dataclass
class _Grouped:
    """A module's facts by category entity: `ents[(category, entity)]` = {sub-path: value}, `rest` = what no
    category claims, `owner[(category, entity, sub)]` = the path that gave the option (lines are read
    from it). Cached with the facts. `basis`/`touched`: derived from that grouping, only these differ."""

    ents: dict[tuple[str, str], dict[Path, Value]]
    rest: dict[Path, Value]
    owner: dict[tuple[str, str, Path], Path]
    clashes: set[tuple[str, str, Path]]  # options given by more than one path (the last in the module's order wins)
    basis: _Grouped | None = None
    touched: set[tuple[str, str]] = field(default_factory=set)
    touched_rest: set[Path] = field(default_factory=set)


def _option(path: Path, cat_of: Any) -> tuple[str, str, Path] | None:
    """(category, entity, sub-path) of a path, None for `other`."""
    c = cat_of(path)
    if c is None:
        return None
    cat, entity = c
    if cat in ("languages", "services", "processes", "scripts", "tasks"):
        return cat, entity, path[2:]
    if cat == "git_hooks" and len(path) >= 3 and path[1] == "hooks":
        return cat, entity, path[3:]
    if cat == "inputs" and path[0] == "inputs":
        return cat, entity, path[2:]
    return cat, entity, ()


def _group(facts: Facts | YamlFacts, cat_of: Any) -> _Grouped:
    """Facts split into category entities, the rest, and which path gave each option (cached with the facts).

    Facts derived from another version's (`Facts.basis`: the paths that may differ) are grouped from
    that version's grouping, touching only those paths; when one of them shares an option with another
    path (which wins depends on the order of the whole module) they are grouped afresh."""
    if facts.grouped is not None:
        return facts.grouped  # type: ignore[no-any-return]
    g = None
    if isinstance(facts, Facts) and facts.basis is not None:
        base = facts.basis[0]()
        if base is not None:
            g = _derive_group(_group(base, cat_of), base, facts, facts.basis[1], cat_of)
    if g is None:
        g = _Grouped({}, {}, {}, set())
        for path, value in facts.ordered() if isinstance(facts, Facts) else facts.values.items():
            k = _option(path, cat_of)
            if k is None:
                g.rest[path] = value
                continue
            g.ents.setdefault(k[:2], {})[k[2]] = value
            if k in g.owner:
                g.clashes.add(k)
            g.owner[k] = path
    facts.grouped = g
    return g


def _derive_group(old: _Grouped, old_facts: Facts, facts: Facts, touched: frozenset[Path], cat_of: Any) -> _Grouped | None:
    g = _Grouped(dict(old.ents), dict(old.rest), dict(old.owner), old.clashes, old)
    copied: set[tuple[str, str]] = set()
    values = facts.values
    for path in touched:
        new = values.get(path)
        if new is None and path not in old_facts.values:
            continue
        k = _option(path, cat_of)
        if k is None:
            if new is None:
                g.rest.pop(path, None)
            else:
                g.rest[path] = new
            g.touched_rest.add(path)
            continue
        if k in old.clashes or g.owner.get(k, path) != path:
            return None  # two paths, one option: group afresh
        key = k[:2]
        if key not in copied:
            g.ents[key] = dict(g.ents.get(key, {}))
            copied.add(key)
        if new is None:
            g.ents[key].pop(k[2], None)
            g.owner.pop(k, None)
        else:
            g.ents[key][k[2]] = new
            g.owner[k] = path
        g.touched.add(key)
    for key in g.touched:
        if not g.ents[key]:
            del g.ents[key]  # an entity with no option left is gone, as in a fresh grouping
    return g


def _line_of(facts: Facts | YamlFacts, path: Path) -> int:
    v = facts.values[path]
    return v.line + facts.offsets.get(path, 0) if isinstance(facts, Facts) else v.line


_CONDITION = attrgetter("condition")


def _pkg_name(v: Value) -> str:
    if v.kind == "ref":
        text = v.text
        return text[5:] if text.startswith("pkgs.") else text[10:] if text.startswith("with pkgs.") else text
    return v.display() if v.kind == "str" else v.text


def _same(before: Mapping[Path, Value], after: Mapping[Path, Value]) -> bool:
    """`before` and `after` have the same options with the same values (`Value.key`), lines aside.

    Kind, text and condition are looked at first: different, and the (recursive) keys need not be built."""
    if before.keys() != after.keys():
        return False
    for sub, v in before.items():
        w = after[sub]
        if v is not w and (v.kind != w.kind or v.text != w.text or v.condition != w.condition or v.key != w.key):
            return False
    return True


def _lines_of(facts: Facts | YamlFacts, path: Path, value: Value | None) -> int | None:
    if value is None:
        return None
    if isinstance(facts, Facts):
        return facts.line(path, value)
    return value.line


def diff_module(file: str, old: Facts | YamlFacts, new: Facts | YamlFacts, b: CardBuilder, *, yaml: bool) -> None:
    cat_of = yaml_category if yaml else nix_category
    old_g, new_g = _group(old, cat_of), _group(new, cat_of)
    old_ents, new_ents = old_g.ents, new_g.ents
    # Grouped from `old`'s grouping: only the entities it touched can differ (the rest are the same dicts).
    keys = new_g.touched if new_g.basis is old_g else set(old_ents) | set(new_ents)

    for key in sorted(keys):
        cat, entity = key
        before, after = old_ents.get(key, {}), new_ents.get(key, {})
        if before == after:
            continue  # the same (cached) values: an unchanged binding (dicts compare values by identity first, in C)
        if _same(before, after):
            continue
        sub_lines = {sub: _line_of(new, new_g.owner[(cat, entity, sub)]) for sub in after}
        line_new = min(sub_lines.values()) if sub_lines else None
        line_old = min(_line_of(old, old_g.owner[(cat, entity, sub)]) for sub in before) if before else None
        if cat == "packages":
            _diff_list(file, "packages", before.get(()), after.get(()), b, new, ("packages",))
        elif cat == "imports":
            _diff_list(file, "imports", before.get(()), after.get(()), b, new, ("imports",), yaml=yaml)
        elif cat in ("languages", "services", "git_hooks") and not (cat == "git_hooks" and "." in entity):
            _diff_toggle(file, cat, entity, before, after, b, line_old, line_new, sub_lines)
        elif cat == "env":
            old_v, new_v = before.get(()), after.get(())
            steers = program_env(entity) if new_v is not None else None
            if steers is not None:
                b.risk("env_changes_programs", file, line_new, f"{entity} = {show_value(new_v, entity)} — {steers}")
            if old_v is None and new_v is not None:
                b.add(
                    "env",
                    "added",
                    make_entry(
                        entity, file, line_new, new_v, value=show_value(new_v, entity, b, file, line_new), secret=_is_secret(entity, new_v)
                    ),
                )
            elif new_v is None and old_v is not None:
                b.add(
                    "env",
                    "removed",
                    make_entry(entity, file, line_old, old_v, value=show_value(old_v, entity), secret=_is_secret(entity, old_v)),
                )
            elif old_v is not None and new_v is not None:
                b.add(
                    "env",
                    "changed",
                    make_entry(
                        entity,
                        file,
                        line_new,
                        new_v,
                        before=show_value(old_v, entity),
                        value=show_value(new_v, entity, b, file, line_new),
                        secret=_is_secret(entity, new_v) or _is_secret(entity, old_v),
                    ),
                )
        elif cat == "shell_hooks":
            _diff_hook(file, entity, before.get(()), after.get(()), b, line_old, line_new)
        elif cat == "agent_settings" or cat == "git_hooks" or (cat == "inputs" and ("." in entity or entity in UNFREE_KEYS)):
            old_v, new_v = before.get(()), after.get(())
            group = "added" if old_v is None else "removed" if new_v is None else "changed"
            v = new_v if new_v is not None else old_v
            line = line_new if new_v is not None else line_old
            b.add(
                cat,
                group,
                make_entry(entity, file, line, v, before=show_value(old_v, entity), after=show_value(new_v, entity, b, file, line)),
            )
            if cat == "agent_settings":
                b.risk("agent_permissions", file, line, f"{entity} configures an AI agent")
            if cat == "inputs" or entity.split(".")[-1] in UNFREE_KEYS:
                _unfree(file, entity, new_v, b, line)
        else:  # processes, scripts, tasks, inputs: whole entities
            group = "added" if not before else "removed" if not after else "changed"
            side = after if after else before
            line = line_new if after else line_old
            extra: dict[str, Any] = {}
            if cat == "inputs":
                url = side.get(("url",))
                extra["url"] = show_value(url, f"inputs.{entity}.url", b if group != "removed" else None, file, line)
                extra["ref"] = _input_ref(url.text) if url is not None else None
            else:
                extra["exec"] = show_value(side.get(("exec",)), f"{cat}.{entity}.exec")
            extra["changes"] = _changes(before, after, f"{cat}.{entity}", file, b, sub_lines) if group == "changed" else []
            b.add(cat, group, make_entry(entity, file, line, side.get(("exec",)) or side.get(("url",)), **extra))
            if group != "removed":
                _entity_risks(file, cat, entity, before, after, b, line)
    _diff_other(file, old_g.rest, new_g.rest, old, new, b, new_g.touched_rest if new_g.basis is old_g else None)


def _is_secret(name: str, v: Value) -> bool:
    return mask_value(name, v.text, literal=v.kind == "str" and not v.text.startswith("${"))[1]


def _input_ref(url: str) -> str | None:
    if "?" in url:
        for part in url.split("?", 1)[1].split("&"):
            k, _, val = part.partition("=")
            if k in ("ref", "rev"):
                return inert(val, 80)
    scheme, _, rest = url.partition(":")
    if scheme in ("github", "gitlab", "sourcehut") and rest.count("/") >= 2:
        return inert(rest.split("/", 2)[2], 80)
    return None


def _unfree(file: str, entity: str, v: Value | None, b: CardBuilder, line: int | None) -> None:
    if v is None or entity.split(".")[-1] not in UNFREE_KEYS:
        return
    if (v.kind == "bool" and v.text == "false") or (v.kind == "list" and not v.items):
        return
    b.risk("unfree_or_insecure", file, line, f"{entity} = {show_value(v, entity)}")


def _entity_risks(
    file: str, cat: str, entity: str, before: Mapping[Path, Value], after: Mapping[Path, Value], b: CardBuilder, line: int | None
) -> None:
    if cat == "inputs":
        old_url, new_url = before.get(("url",)), after.get(("url",))
        if new_url is not None and (old_url is None or old_url.key != new_url.key):
            b.risk("new_code_source", file, new_url.line, f"input {entity} from {show_value(new_url, 'url')}")
        elif not before:
            b.risk("new_code_source", file, line, f"input {entity}")
        return
    if (
        cat == "processes"
        and any(s[:1] == ("ports",) for s in after)
        and any(before.get(s, None) is None or before[s].key != v.key for s, v in after.items() if s[:1] == ("ports",))
    ):
        b.risk("network_service", file, line, f"process {entity} allocates a port")
    if cat == "tasks":
        before_list = after.get(("before",))
        if (
            before_list is not None
            and any(i.text in ("devenv:enterShell", "devenv:enterTest") for i in before_list.items)
            and before.get(("before",)) is None
            or (
                before_list is not None
                and any(i.text == "devenv:enterShell" for i in before_list.items)
                and {k: v.key for k, v in before.items()} != {k: v.key for k, v in after.items()}
            )
        ):
            b.risk("runs_on_shell_entry", file, line, f"task {entity} runs before devenv:enterShell")


def _diff_toggle(
    file: str,
    cat: str,
    entity: str,
    before: Mapping[Path, Value],
    after: Mapping[Path, Value],
    b: CardBuilder,
    line_old: int | None,
    line_new: int | None,
    sub_lines: Mapping[Path, int],
) -> None:
    s_old, _ = _state(before)
    s_new, v_new = _state(after)
    on, off = ("added", "removed") if cat == "git_hooks" else ("enabled", "disabled")
    extra: dict[str, Any] = {}
    if cat == "services":
        extra["port"] = _port(entity, after if s_new != "off" else before)
    changes = _changes(before, after, f"{cat}.{entity}", file, b, sub_lines)
    enable_line = sub_lines.get(("enable",), line_new)
    if cat == "languages" and s_new != "off":
        for c in changes:
            installs = INSTALL_ON_ENTRY.get((entity, c["option"]))
            if installs is not None and c["after"] not in (None, "false", "null", '""', "[ ]"):
                line = sub_lines.get(tuple(c["option"].split(".")), line_new)
                b.risk("runs_on_shell_entry", file, line, f"languages.{entity}.{c['option']} = {c['after']} — {installs}")
    if s_old == "off" and s_new != "off":
        e = make_entry(entity, file, enable_line, v_new, changes=changes, **extra)
        if s_new == "maybe" and v_new is not None and e["condition"] is None:
            e["condition"] = show_value(v_new, f"{cat}.{entity}.enable")
            e["resolved"] = v_new.kind == "bool"
        b.add(cat, on, e)
        if cat == "services":
            b.risk("network_service", file, enable_line, f"service {entity}" + (f" (port {extra['port']})" if extra["port"] else ""))
        if cat == "git_hooks":
            b.risk("runs_on_commit", file, enable_line, _hook_runs(entity, after))
    elif s_old != "off" and s_new == "off":
        b.add(cat, off, make_entry(entity, file, line_new if after else line_old, None, changes=changes, **extra))
    else:
        b.add(cat, "changed", make_entry(entity, file, line_new if after else line_old, v_new, changes=changes, **extra))
        if cat == "services" and s_new != "off" and any(c["option"].split(".")[-1] in PORT_OPTIONS for c in changes):
            b.risk("network_service", file, line_new, f"service {entity} listens elsewhere")
        if cat == "git_hooks" and s_new != "off" and any(c["option"] in GIT_HOOK_COMMANDS for c in changes):
            b.risk("runs_on_commit", file, line_new, _hook_runs(entity, after))


def _hook_runs(entity: str, sub: Mapping[Path, Value]) -> str:
    """`git hook ruff runs on commit: ruff check`, with its entry when the file gives one."""
    entry = sub.get(("entry",))
    return f"git hook {entity} runs on commit" + (f": {show_value(entry, f'{entity}.entry')}" if entry is not None else "")


def _port(entity: str, sub: Mapping[Path, Value]) -> int | None:
    for opt in ("port", "listenPort", "listen_port", "httpPort", "http_port"):
        v = sub.get((opt,))
        if v is not None and v.kind == "int":
            try:
                return int(v.text)
            except ValueError:
                return None
    return SERVICE_PORTS.get(entity)


def _diff_list(
    file: str,
    cat: str,
    old: Value | None,
    new: Value | None,
    b: CardBuilder,
    new_facts: Facts | YamlFacts,
    path: Path,
    *,
    yaml: bool = False,
) -> None:
    def items(v: Value | None) -> list[Value]:
        if v is None:
            return []
        return list(v.items) if v.kind == "list" else [v]

    def name(v: Value) -> str:
        return _pkg_name(v) if cat == "packages" else (v.text if v.kind in ("str", "path") else v.display())

    old_items, new_items = items(old), items(new)
    # Mapped in C (a joined `packages` has hundreds of items; the proposal changes one or two of them).
    name_of = _pkg_name if cat == "packages" else name
    old_keys = list(zip(map(name_of, old_items), map(_CONDITION, old_items)))
    new_keys = list(zip(map(name_of, new_items), map(_CONDITION, new_items)))
    old_count, new_count = Counter(old_keys), Counter(new_keys)
    if old_count == new_count:
        return  # every item is matched (the same names, as often, in another order)
    for n, (i, k) in enumerate(zip(new_items, new_keys)):
        if old_count[k] > 0:
            old_count[k] -= 1
            continue
        line = new_facts.item_line(path, n, i) if isinstance(new_facts, Facts) else i.line
        b.add(cat, "added", make_entry(k[0], file, line, i))
        if cat == "imports":
            b.risk("new_code_source", file, line, f"imports {k[0]}")
    for i, k in zip(old_items, old_keys):
        if new_count[k] > 0:
            new_count[k] -= 1
            continue
        b.add(cat, "removed", make_entry(k[0], file, None, i))


def _diff_hook(
    file: str, hook: str, old: Value | None, new: Value | None, b: CardBuilder, line_old: int | None, line_new: int | None
) -> None:
    def lines(v: Value | None) -> list[str]:
        if v is None:
            return []
        return [l for l in (v.text.split("\n") if v.kind == "str" else [v.display()]) if l.strip()]

    a, c = lines(old), lines(new)
    added: list[str] = []
    removed: list[str] = []
    first_added: int | None = None
    for tag, i1, i2, j1, j2 in line_changes(a, c):
        if tag == "equal":
            continue
        removed.extend(a[i1:i2])
        added.extend(c[j1:j2])
        if j2 > j1 and first_added is None and new is not None and line_new is not None:
            first_added = _text_line(new, line_new, c[j1])
    group = "added" if old is None else "removed" if new is None else "changed"
    v = new if new is not None else old
    line = line_new if new is not None else line_old

    def show(ls: list[str]) -> list[str]:
        out = []
        for l in ls[:200]:
            text, secret = mask_text(l)
            if secret and l in added:
                b.risk("secret_in_file", file, line, f"{hook} holds what looks like a secret")
            out.append(inert(text.strip()))
        return out

    b.add("shell_hooks", group, make_entry(hook, file, line, v, added_lines=show(added), removed_lines=show(removed)))
    if hook == "enterShell" and added:
        b.risk("runs_on_shell_entry", file, first_added or line, f"enterShell runs: {added[0].strip()[:80]}")


def _text_line(v: Value, line: int, text: str) -> int:
    """The file line of `text` inside a multi-line string value starting at `line` (its closing quote ends the value)."""
    if v.kind != "str" or "\n" not in v.text:
        return line
    parts = v.text.split("\n")
    first = line + (v.end_line - v.line) - (len(parts) - 1)  # the closing '' is on the last part's line
    for k, part in enumerate(parts):
        if part.strip() == text.strip():
            return max(first + k, line)
    return line


def _diff_other(
    file: str,
    old_rest: Mapping[Path, Value],
    new_rest: Mapping[Path, Value],
    old: Facts | YamlFacts,
    new: Facts | YamlFacts,
    b: CardBuilder,
    touched: set[Path] | None = None,
) -> None:
    for path in sorted(touched if touched is not None else set(old_rest) | set(new_rest)):
        o, n = old_rest.get(path), new_rest.get(path)
        if o is n or (o is not None and n is not None and o.key == n.key):
            continue
        name = attr_path(path)
        group = "added" if o is None else "removed" if n is None else "changed"
        line = _lines_of(new, path, n) if n is not None else _lines_of(old, path, o)
        b.add(
            "other",
            group,
            make_entry(name, file, line, n if n is not None else o, before=show_value(o, name), after=show_value(n, name, b, file, line)),
        )
        if path[-1] in UNFREE_KEYS:
            _unfree(file, name, n, b, line)
        written = written_file_risk(path[1]) if n is not None and len(path) >= 2 and path[0] == "files" else None
        if written is not None:
            b.risk(written[0], file, line, f'files."{path[1]}": {written[1]}')
        if n is not None and (path[:2] in BINARY_CACHE_PATHS or path[:3] in BINARY_CACHE_PATHS):
            b.risk("new_code_source", file, line, f"{name} = {show_value(n, name)} — Nix takes prebuilt binaries from this cache")


_PLAIN_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def attr_path(path: Path) -> str:
    """An attribute path as Nix writes it: `files.".envrc".text`, not `files..envrc.text`."""
    return ".".join(part if _PLAIN_ATTR.fullmatch(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in path)


def diff_envrc(file: str, old: bytes | None, new: bytes | None, b: CardBuilder) -> None:
    def lines(data: bytes | None) -> list[str]:
        return data.decode("utf-8", "replace").split("\n") if data is not None else []

    a, c = lines(old), lines(new)
    added: list[tuple[int, str]] = []
    for tag, _i1, _i2, j1, j2 in line_changes(a, c):
        if tag != "equal":
            added.extend((j + 1, c[j]) for j in range(j1, j2) if c[j].strip() and not c[j].lstrip().startswith("#"))
    group = "added" if old is None else "removed" if new is None else "changed"
    shown = []
    for line, text in added[:200]:
        masked, secret = mask_text(text.strip())
        if secret:
            b.risk("secret_in_file", file, line, f"{file} holds what looks like a secret")
        shown.append(inert(masked))
        b.risk("runs_on_cd", file, line, f"{file} runs on cd: {text.strip()[:80]}")
    b.add("files", group, make_entry(file, file, added[0][0] if added else None, None, runs_on_cd=shown))


def diff_fetchers(file: str, old: Facts, new: Facts, b: CardBuilder) -> None:
    before = Counter(f for f, _ in old.fetchers)
    for fetcher, line in new.fetchers:
        if before[fetcher] > 0:
            before[fetcher] -= 1
            continue
        b.risk("new_code_source", file, line, f"fetches code with {fetcher}")


def note_added_reads(path: str, file: str, old: bytes | None, new: bytes, in_change: set[str], b: CardBuilder) -> None:
    """`reads_unreviewed_file`: a path the change adds (`${./hook.sh}`, `import ./x.nix`) to a file it does not carry."""
    from omni_tui.core.card.reads import added_reads

    for literal, rel, line in added_reads(path, old, new):
        if rel == ".":  # `src = ./.;`, `./. + "/${name}.nix"`: the whole folder, or a file named at evaluation
            why = f"{literal} — the environment reads the project's folder, none of it in this change"
        elif rel not in in_change:
            why = f"{literal} — the environment reads this file; its content is not part of this change"
        else:
            continue
        b.risk("reads_unreviewed_file", file, line, why)


def note_guard_changes(file: str, old: bytes | None, new: bytes | None, b: CardBuilder) -> None:
    """What a change of omni-tui.toml does to the guard: files taken in (each then an unapproved edit until a
    person accepts its content), files let go, files left unguarded on purpose. Nothing when either side does not parse."""
    from omni_tui.core.config import DEFAULT_GUARDED, GuardConfig, config_from_bytes
    from omni_tui.core.errors import ConfigError

    try:
        before = config_from_bytes(file, old) if old is not None else None
        after = config_from_bytes(file, new) if new is not None else None
    except ConfigError:
        return
    was, now = (before.guard if before else GuardConfig()), (after.guard if after else GuardConfig())
    for name in now.files:
        if name not in was.files:
            b.risk("agent_permissions", file, None, f"[guard] files + {name}: then an unapproved edit until you accept its content")
    for name in was.files:
        if name not in now.files and name != DEFAULT_GUARDED[0]:  # devenv.nix is guarded whatever the list says
            b.risk("agent_permissions", file, None, f"[guard] files - {name}: changes to it are no longer asked about")
    for name in now.unguarded_ok:
        if name not in was.unguarded_ok:
            b.risk("agent_permissions", file, None, f"[guard] unguarded_ok + {name}: read by the environment, no longer warned about")


def note_unparsed(file: str, items: Iterable[Unparsed], b: CardBuilder) -> None:
    for u in items:
        b.risk("unparsed", file, u.line, u.why)
