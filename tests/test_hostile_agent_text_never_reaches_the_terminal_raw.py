"""Whatever an agent writes — a title, a rationale, an agent name, a withdraw reason, file content, an id,
a path, a file it plants in the state folder under any name, a line it appends to the audit log — the
agent-facing commands print it inert and end with their documented code.

Generated hostile text (ESC/CSI/OSC 52/OSC 8 hyperlinks, C0, DEL, C1, bidi overrides and isolates,
lone surrogates, newlines, long names) is fed to `propose`, `status`, `explain`, `wait`, `withdraw` and
`audit` in-process (`omni_tui.cli.main`, as `omni-tui` runs them), and what lands on stdout and stderr
is checked character by character: nothing a terminal would act on, nothing an encoder chokes on.
Reads exit 0, bad input exits 2 with one line, and no temporary file is left in the state folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from conftest import SAMPLE_DEVENV_NIX
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from omni_tui.cli import main
from omni_tui.core.safefs import TMP_PREFIX

# What must never reach a terminal: C0 but tab and newline, DEL, C1, the bidi embeddings/overrides/isolates,
# and lone surrogates (an encoder's crash, or raw bytes).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

PIECES = [
    "\x1b]52;c;cHduZWQ=\x07",  # OSC 52: the clipboard
    "\x1b]2;owned-title\x1b\\",  # OSC 2: the window title
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",  # OSC 8: a hyperlink
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b[31;1m",
    "\x1b",
    "\x9b31m",  # 8-bit CSI
    "\x9d0;x\x9c",  # 8-bit OSC
    "\x90qDCS\x9c",
    "\x07",
    "\x08\x08\x08",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x7f",
    "\u202eexe.txt\u202c",
    "\u2066iso\u2069",
    "\u200b",
    "\ufeff",
    "\U000e0041",
    "\ud800",
    "\udcff",
    "\\u202e",  # the six characters, not the code point
    '"',
    "${x}",
    "''",
    "--",
    " ",
    "café 漢字 🚀",
]


def _joined(alphabet: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(PIECES), alphabet), min_size=1, max_size=max_size).map("".join)


HOSTILE = _joined(st.text(max_size=6), 6)
# A real command line cannot carry NUL (execve ends the word there): in-process, it would only test Python.
_ARG = HOSTILE.map(lambda text: text.replace("\x00", ""))
# Mostly UTF-8 (a lone surrogate — bytes that were not UTF-8 — is refused before anything is written), so that
# most generated proposals get as far as the commands that show them.
_UTF8_ARG = _ARG.map(lambda text: re.sub("[\ud800-\udfff]", "", text))
HOSTILE_ARG = st.one_of(_UTF8_ARG, _UTF8_ARG, _UTF8_ARG, _ARG)

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _assert_inert(stream: str, text: str) -> None:
    found = sorted({hex(ord(ch)) for ch in RAW.findall(text)})
    assert not found, f"raw {found} reached {stream}: {text!r}"
    text.encode("utf-8")  # strict: what a UTF-8 terminal is sent


@contextmanager
def _project() -> Iterator[Path]:
    """A fresh devenv project per example: every run starts from the same empty gate. Its parent, removed
    with it, holds the new contents proposed (`<root>.nix`)."""
    parent = Path(tempfile.mkdtemp(prefix="omni-hostile-"))
    root = parent / "proj"
    try:
        root.mkdir()
        (root / "devenv.nix").write_text(SAMPLE_DEVENV_NIX)
        yield root
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _state(root: Path) -> Path:
    return root / ".devenv" / "omni"


def _leftovers(root: Path) -> list[str]:
    state = _state(root)
    return [str(p.relative_to(state)) for p in state.rglob("*") if p.name.startswith(TMP_PREFIX)] if state.exists() else []


def omni(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`omni-tui ARGV` in-process: (exit code, stdout, stderr), both checked inert. Any exception fails."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: a bad argument
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    _assert_inert("stdout", out)
    _assert_inert("stderr", err)
    return code, out, err


def _one_line_refusal(code: int, out: str, err: str) -> None:
    assert code == 2, (code, out, err)
    assert out == "" and err.startswith("omni-tui") and err.count("\n") == 1, (out, err)


def _read_ok(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> str:
    code, out, err = omni(capsys, *argv, "-C", str(root))
    assert code == 0, (argv, out, err)
    assert not _leftovers(root)
    return out


@pytest.fixture(autouse=True)
def _no_agent_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OMNI_TUI_AGENT", "OMNI_TUI_SANDBOX", "DEVENV_ROOT", "DEVENV_DOTFILE", "DEVENV_RUNTIME", "DEVENV_STATE"):
        monkeypatch.delenv(var, raising=False)


def _nix_with(text: str) -> str:
    """devenv.nix with the agent's text as a string value and a comment (valid Nix or not: either is proposed)."""
    return SAMPLE_DEVENV_NIX.replace('env.GREET = "hello";', f'env.GREET = "{text}";\n  # {text}')


# -- an agent's proposal, through every command that shows it ----------------------------------------


@given(title=HOSTILE_ARG, why=HOSTILE_ARG, agent=HOSTILE_ARG, reason=HOSTILE_ARG, content=HOSTILE, refuse=st.booleans())
@SETTINGS
def test_a_hostile_proposal_is_shown_inert_by_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, title: str, why: str, agent: str, reason: str, content: str, refuse: bool
) -> None:
    with _project() as root:
        if refuse:  # `[policy] refuse`: rejected at once, the decision line (with the agent's title) printed by propose
            (root / "omni-tui.toml").write_text('[policy]\nrefuse = ["env", "unparsed"]\n')
        new = tmp_path / "new.nix"
        new.write_bytes(_nix_with(content).encode("utf-8", "surrogatepass"))
        _read_ok(capsys, root, "status", "--no-nix")  # the state folder exists: proposals/ can be compared
        before = sorted(p.name for p in (_state(root) / "proposals").iterdir())
        code, out, err = omni(
            capsys,
            "propose",
            "-C",
            str(root),
            "devenv.nix",
            "--new-content",
            str(new),
            f"--title={title}",
            f"--why={why}",
            f"--agent={agent}",
        )
        assert not _leftovers(root)
        after = sorted(p.name for p in (_state(root) / "proposals").iterdir())
        event({0: "proposed", 10: "refused by the policy"}.get(code, "refused as bad input: " + err[:60]))
        if code not in (0, 10):  # refused (a lone surrogate, an empty title, bytes that are not UTF-8, ...): nothing was written
            _one_line_refusal(code, out, err)
            assert after == before
            _read_ok(capsys, root, "audit")
            return
        proposal_id = out.strip()
        assert out == proposal_id + "\n", (out, err)
        assert after == [*before, f"{proposal_id}.json"]
        stored = json.loads((_state(root) / "proposals" / f"{proposal_id}.json").read_text("utf-8"))
        assert stored["id"] == proposal_id  # the whole document, never half of one

        status = _read_ok(capsys, root, "status")  # with the Nix check: its message quotes the agent's content
        assert (proposal_id in status) == (code == 0)  # pending, or rejected by the policy
        _read_ok(capsys, root, "explain", proposal_id)
        _read_ok(capsys, root, "explain", "--current")

        code_after, out, err = omni(capsys, "wait", "-C", str(root), proposal_id, "--timeout", "0")
        if code == 10:
            assert refuse and code_after == 10 and out.count("\n") == 1 and err == "", (code_after, out, err)
        else:
            assert code_after == 124 and out == "" and err.count("\n") == 1, (code_after, out, err)

        decided = _state(root) / "decisions" / f"{proposal_id}.json"
        was = decided.read_bytes() if decided.exists() else None
        code_after, out, err = omni(capsys, "withdraw", "-C", str(root), proposal_id, f"--reason={reason}", f"--agent={agent}")
        if code_after == 2:  # a reason that is not UTF-8, or decided already: refused, nothing changed
            _one_line_refusal(code_after, out, err)
            assert (decided.read_bytes() if decided.exists() else None) == was
        else:
            assert code == 0 and code_after == 0 and out == f"withdrawn {proposal_id}\n" and err == "", (code_after, out, err)
            code_after, out, err = omni(capsys, "wait", "-C", str(root), proposal_id, "--timeout", "0")
            assert code_after == 13 and out.count("\n") == 1 and err == "", (code_after, out, err)
        assert not _leftovers(root)

        _read_ok(capsys, root, "status", "--no-nix")
        _read_ok(capsys, root, "audit")
        _read_ok(capsys, root, "audit", "-n", "2")
        verified = _read_ok(capsys, root, "audit", "--verify")
        assert verified.startswith("ok: ")


# -- words an agent types where an id or a path goes ------------------------------------------------


@given(word=HOSTILE_ARG)
@SETTINGS
def test_a_hostile_id_or_path_is_refused_in_one_inert_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, word: str) -> None:
    with _project() as root:
        new = tmp_path / "new.nix"
        new.write_text(_nix_with("x"))
        _read_ok(capsys, root, "status", "--no-nix")
        for argv in (
            ("wait", "-C", str(root), "--timeout", "0", "--", word),
            ("explain", "-C", str(root), "--", word),
            ("withdraw", "-C", str(root), "--reason", "r", "--", word),
            ("propose", "-C", str(root), "--new-content", str(new), "--title", "t", "--why", "w", "--", word),
            ("wait", "-C", str(root), f"--timeout={word}", "x"),
        ):
            code, out, err = omni(capsys, *argv)
            _one_line_refusal(code, out, err)
            assert not _leftovers(root)
        assert not list((_state(root) / "proposals").iterdir())


# -- what an agent plants in the state folder itself ------------------------------------------------

NAME_BYTES = st.one_of(
    st.sampled_from(PIECES).map(lambda piece: piece.encode("utf-8", "surrogatepass")),
    st.binary(min_size=1, max_size=4),
    st.sampled_from([1, 100, 230, 241, 250]).map(lambda n: b"n" * n),  # up to the file system's 255 bytes with `.json`
)
FILE_NAME = (
    st.lists(NAME_BYTES, min_size=1, max_size=4)
    .map(lambda parts: b"".join(parts).replace(b"/", b"_").replace(b"\x00", b"_")[:250])
    .filter(lambda name: name not in (b".", b".."))
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE, inner, max_size=3),
    max_leaves=6,
)


FORGED = b"<the hand-written proposal>"  # `junk` that stands for the schema-valid document with hostile text


def _proposal_document(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    """A well-formed proposal document, to be rewritten by hand with hostile values."""
    new = root.parent / f"{root.name}.nix"
    new.write_text(_nix_with("x"))
    code, out, err = omni(capsys, "propose", "-C", str(root), "devenv.nix", "--new-content", str(new), "--title", "t", "--why", "w")
    assert code == 0, err
    path = _state(root) / "proposals" / f"{out.strip()}.json"
    doc: dict[str, object] = json.loads(path.read_text("utf-8"))
    path.unlink()
    return doc


@given(
    name=FILE_NAME,
    junk=st.one_of(JSON_VALUE.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40), st.just(FORGED)),
    text=HOSTILE,
    audit_entry=st.dictionaries(st.sampled_from(["seq", "time", "who", "event", "proposal_id", "exit_code", "reason"]), JSON_VALUE),
)
@example(name=b"\xff\x1b]2;t\x07", junk=FORGED, text="\u202e", audit_entry={"seq": [1]})  # a valid document, a name not UTF-8
@example(name=b"n" * 250, junk=b"{", text="\x1b]2;t\x07", audit_entry={"who": "\x9b31m"})  # no seq; the longest name
@SETTINGS
def test_hostile_files_in_the_state_folder_never_break_a_read(
    capsys: pytest.CaptureFixture[str], name: bytes, junk: bytes, text: str, audit_entry: dict[str, object]
) -> None:
    with _project() as root:
        _read_ok(capsys, root, "status", "--no-nix")
        state = _state(root)
        doc = _proposal_document(root, capsys)
        old = time.time() - 60  # past the settle time: a bad proposal is quarantined at once
        planted = []

        def plant(folder: str, file_name: bytes, data: bytes) -> None:
            path = os.path.join(os.fsencode(state / folder), file_name)
            try:
                with open(path, "wb") as handle:
                    handle.write(data)
            except OSError:  # a name this file system refuses (too long with its suffix): an agent could not plant it either
                return
            os.utime(path, (old, old))
            planted.append(path)

        # A proposal written by hand: schema-valid, its text fields hostile (JSON may carry lone surrogates).
        forged = {**doc, "id": "hand-written", "title": text, "agent": text, "rationale": text}
        plant("proposals", b"hand-written.json", json.dumps(forged).encode())
        junk = json.dumps(forged).encode() if junk == FORGED else junk
        plant("proposals", name + b".json", junk)
        plant("proposals", name, junk)
        plant("quarantine", name, junk)
        plant("quarantine", name + b".error.txt", text.encode("utf-8", "surrogatepass"))
        plant("decisions", name + b".json", junk)
        plant("decisions", b"hand-written.json", json.dumps({"proposal_id": "hand-written", "status": "applied", "who": text}).encode())
        with open(state / "audit.jsonl", "ab") as log:
            log.write(json.dumps(audit_entry).encode() + b"\n" + junk.replace(b"\n", b" ") + b"\n")

        first = _read_ok(capsys, root, "status", "--no-nix")
        assert "quarantined: " in first  # `proposals/<name>.json` is no proposal of that id, whatever its name and bytes
        _read_ok(capsys, root, "status", "--no-nix")  # after the first listing quarantined what it could not read
        _read_ok(capsys, root, "audit")
        _read_ok(capsys, root, "audit", "-n", "3")
        _read_ok(capsys, root, "explain", "--current")
        code, out, err = omni(capsys, "audit", "-C", str(root), "--verify")
        assert code == 1 and out == "" and err.startswith("omni-tui: "), (code, out, err)  # the log was written by hand
        if (state / "proposals" / "hand-written.json").exists():
            _read_ok(capsys, root, "explain", "hand-written")
            code, out, err = omni(capsys, "wait", "-C", str(root), "hand-written", "--timeout", "0")
            assert code in (14, 124), (code, out, err)  # a decision nobody vouches for is tampered, never approved


# -- a terminal that is not UTF-8 ------------------------------------------------------------------


def omni_on(encoding: str, *argv: str) -> tuple[int, bytes, bytes]:
    """`omni-tui ARGV` writing to streams in `encoding` (PYTHONIOENCODING=ascii, a latin-1 locale): the bytes sent."""
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding, newline="\n", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding=encoding, newline="\n", write_through=True)
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    sent = {}
    for name, stream in (("stdout", out), ("stderr", err)):
        stream.flush()
        sent[name] = stream.buffer.getvalue()  # type: ignore[attr-defined]
        _assert_inert(f"{name} ({encoding})", sent[name].decode(encoding))  # in latin-1, byte 0x9b is the 8-bit CSI
    return code, sent["stdout"], sent["stderr"]


@given(title=_UTF8_ARG, agent=_UTF8_ARG, encoding=st.sampled_from(["ascii", "latin-1", "cp1252"]))
@settings(max_examples=20, deadline=None)
def test_a_terminal_that_is_not_utf8_gets_escapes_never_a_traceback(title: str, agent: str, encoding: str) -> None:
    with _project() as root:
        new = root.parent / f"{root.name}.nix"
        new.write_text(_nix_with(title))
        code, out, _err = omni_on(
            encoding, "propose", "-C", str(root), "devenv.nix", "--new-content", str(new), f"--title={title}", "--why=w", f"--agent={agent}"
        )
        event("proposed" if code == 0 else "refused")
        if code != 0:  # a title or an agent name that is empty or not one line: one line, whatever the encoding
            assert code == 2
            return
        proposal_id = out.decode("ascii").strip()
        for argv in (
            ("status", "--no-nix"),
            ("status", "--json", "--no-nix"),
            ("explain", proposal_id),
            ("explain", proposal_id, "--json"),
            ("audit",),
            ("audit", "--json"),
            ("audit", "--verify"),
        ):
            code, out, err = omni_on(encoding, *argv, "-C", str(root))
            assert code == 0, (argv, out, err)
        _code, out, _err = omni_on(encoding, "status", "--json", "--no-nix", "-C", str(root))
        assert json.loads(out.decode(encoding))["pending"][0]["title"] == title.strip()
        code, out, err = omni_on(encoding, "wait", "-C", str(root), proposal_id, "--timeout", "0")
        assert code == 124 and err.count(b"\n") == 1, (code, out, err)
