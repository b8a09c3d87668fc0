"""Proposal and decision documents, the store, quarantine of malformed files, withdraw and wait."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from omni_tui.core.audit import utc_now
from omni_tui.core.errors import GateError, PathError, ProposalError
from omni_tui.core.proposals import (
    Decision,
    FileChange,
    Proposal,
    ProposalStore,
    new_id,
    parse_proposal,
)
from omni_tui.core.safefs import sha256_bytes
from omni_tui.core.workspace import Workspace


@pytest.fixture
def ws(project: Path) -> Workspace:
    return Workspace.open(project)


@pytest.fixture
def store(ws: Workspace) -> ProposalStore:
    return ProposalStore(ws)


def new_text(ws: Workspace) -> str:
    return (ws.root / "devenv.nix").read_text().replace("pkgs.jq", "pkgs.jq pkgs.ripgrep")


def valid_doc(ws: Workspace, **overrides) -> dict:
    doc = {
        "schema": "omni-tui/proposal@1",
        "id": new_id(),
        "agent": "shell-agent",
        "title": "Add ripgrep",
        "rationale": "search",
        "created_at": utc_now(),
        "changes": [
            {"path": "devenv.nix", "base_sha256": sha256_bytes((ws.root / "devenv.nix").read_bytes()), "new_content": new_text(ws)}
        ],
    }
    doc.update(overrides)
    return doc


def test_ids_are_sortable_and_unique() -> None:
    ids = [new_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", i) for i in ids)
    earlier = new_id()
    time.sleep(1.1)
    assert new_id() > earlier


def test_create_writes_an_atomic_document_and_lists_it(ws: Workspace, store: ProposalStore) -> None:
    before = (ws.root / "devenv.nix").read_bytes()
    proposal = store.create({"devenv.nix": new_text(ws)}, title="Add ripgrep", rationale="search", agent="claude")
    assert (ws.root / "devenv.nix").read_bytes() == before
    doc = json.loads((ws.paths.proposals / f"{proposal.id}.json").read_text())
    assert doc["schema"] == "omni-tui/proposal@1" and doc["changes"][0]["base_sha256"] == sha256_bytes(before)
    (entry,) = store.entries()
    assert entry.proposal == proposal and entry.status == "pending" and entry.decision is None
    assert store.get(proposal.id) == proposal
    assert ws.audit.entries()[-1]["event"] == "proposed"


def test_a_proposal_for_a_file_that_does_not_exist_yet_has_a_null_base(ws: Workspace, store: ProposalStore) -> None:
    proposal = store.create({"devenv.local.nix": "{ }\n"}, title="local overrides", rationale="r", agent="a")
    assert proposal.changes == (FileChange("devenv.local.nix", None, "{ }\n"),)


@pytest.mark.parametrize(
    ("contents", "title", "message"),
    [
        ({"devenv.nix": "x"}, "", "`title` must not be empty"),
        ({"devenv.nix": "x"}, "two\nlines", "`title` must be a single line"),
        ({"../x": "x"}, "t", "leaves the project root"),
        ({"/etc/passwd": "x"}, "t", "outside the project root"),
        ({"README.md": "x"}, "t", "README.md: not a guarded file"),
        ({}, "t", "at least one file"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(ws: Workspace, store: ProposalStore, contents, title, message) -> None:
    with pytest.raises((ProposalError, PathError), match=re.escape(message)):
        store.create(contents, title=title, rationale="r", agent="a")
    assert list(ws.paths.proposals.iterdir()) == []


def test_a_proposal_that_changes_nothing_is_refused(ws: Workspace, store: ProposalStore) -> None:
    with pytest.raises(ProposalError, match="changes nothing"):
        store.create({"devenv.nix": (ws.root / "devenv.nix").read_text()}, title="t", rationale="r", agent="a")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{ not json", "invalid JSON"),
        (b"\xff\xfe", "not valid UTF-8"),
        ("schema=omni-tui/proposal@2", "unknown schema 'omni-tui/proposal@2'"),
        ("drop=title", "missing field `title`"),
        ("title=42", "field `title` must be a string, not int"),
        ("changes=[]", "`changes` must list at least one file"),
        ("path=../escape.nix", "leaves the project root"),
        ("path=/etc/hosts", "outside the project root"),
        ("path=notes.txt", "notes.txt: not a guarded file"),
        ("extra=1", "unknown field `extra`"),
        ("base=xyz", "64 lowercase hex digits"),
        ("id=mismatch", "does not match the file name"),
    ],
)
def test_malformed_files_are_quarantined_while_the_others_still_list(ws: Workspace, store: ProposalStore, content, error) -> None:
    good = store.create({"devenv.nix": new_text(ws)}, title="good", rationale="r", agent="a")
    name = "20000101T000000Z-bad000.json"
    if isinstance(content, bytes):
        raw = content
    else:
        doc = valid_doc(ws, id=name[:-5])
        key, _, value = content.partition("=")
        if key == "drop":
            del doc[value]
        elif key == "schema":
            doc["schema"] = value
        elif key == "title":
            doc["title"] = int(value)
        elif key == "changes":
            doc["changes"] = []
        elif key == "path":
            doc["changes"][0]["path"] = value
        elif key == "extra":
            doc["extra"] = 1
        elif key == "base":
            doc["changes"][0]["base_sha256"] = value
        elif key == "id":
            doc["id"] = "someone-else"
        raw = json.dumps(doc).encode()
    (ws.paths.proposals / name).write_bytes(raw)
    entries = store.entries()
    assert [e.proposal.id for e in entries] == [good.id]
    assert not (ws.paths.proposals / name).exists()
    assert (ws.paths.quarantine / name).read_bytes() == raw
    (bad,) = store.quarantined()
    assert bad.path.name == name and error in bad.error and "\n" not in bad.error
    assert (ws.paths.quarantine / f"{name}.error.txt").read_text().strip() == bad.error


def test_a_file_caught_half_written_is_read_once_finished_not_quarantined(ws: Workspace, store: ProposalStore) -> None:
    """An agent that does not write atomically: the listing waits for the rest (up to SETTLE_S)."""
    doc = valid_doc(ws)
    raw = json.dumps(doc).encode()
    file = ws.paths.proposals / f"{doc['id']}.json"
    file.write_bytes(raw[: len(raw) // 2])
    finish = threading.Timer(0.3, lambda: file.write_bytes(raw))
    finish.start()
    try:
        (entry,) = store.entries()
    finally:
        finish.join()
    assert entry.proposal.id == doc["id"] and store.quarantined() == []


def test_a_file_that_stays_half_written_is_quarantined(ws: Workspace, store: ProposalStore) -> None:
    file = ws.paths.proposals / "20000101T000000Z-cut000.json"
    file.write_bytes(b'{"schema": "omni-tui/proposal@1", "id": ')
    assert store.entries() == []
    (bad,) = store.quarantined()
    assert bad.path.name == file.name and "invalid JSON" in bad.error


def test_quarantined_files_list_newest_first(ws: Workspace, store: ProposalStore) -> None:
    for age, name in ((300, "20000101T000000Z-old000.json"), (10, "20000101T000000Z-new000.json"), (100, "20000101T000000Z-mid000.json")):
        file = ws.paths.proposals / name
        file.write_bytes(b"{ not json")
        stamp = time.time() - age
        os.utime(file, (stamp, stamp))
    assert store.entries() == []
    assert [q.path.name for q in store.quarantined()] == [
        "20000101T000000Z-new000.json",
        "20000101T000000Z-mid000.json",
        "20000101T000000Z-old000.json",
    ]


def test_agents_may_write_proposal_files_directly(ws: Workspace, store: ProposalStore) -> None:
    doc = valid_doc(ws)
    (ws.paths.proposals / f"{doc['id']}.json").write_text(json.dumps(doc))
    (entry,) = store.entries()
    assert entry.proposal == parse_proposal(doc, ws) and entry.status == "pending"


def test_unknown_ids_and_hostile_ids_are_refused(store: ProposalStore) -> None:
    with pytest.raises(ProposalError, match="no proposal with id 20990101T000000Z-000000"):
        store.get("20990101T000000Z-000000")
    with pytest.raises(ProposalError, match="not a valid proposal id"):
        store.get("../../etc/passwd")


def test_withdraw_only_while_pending(ws: Workspace, store: ProposalStore) -> None:
    proposal = store.create({"devenv.nix": new_text(ws)}, title="t", rationale="r", agent="a")
    decision = store.withdraw(proposal.id, who="a")
    assert decision.status == "withdrawn" and store.status(proposal.id) == "withdrawn"
    with pytest.raises(GateError, match="is withdrawn, not pending"):
        store.withdraw(proposal.id, who="a")
    assert ws.audit.entries()[-1]["event"] == "withdrawn"


def test_wait_returns_only_final_decisions(ws: Workspace, store: ProposalStore) -> None:
    proposal = store.create({"devenv.nix": new_text(ws)}, title="t", rationale="r", agent="a")
    assert store.wait(proposal.id, timeout_s=0.3) is None
    store.decide(Decision(proposal.id, "rebuilding", None, "alice", utc_now()), "approved", who="alice")
    assert store.wait(proposal.id, timeout_s=0.3) is None  # in progress is not an answer

    def decide() -> None:
        time.sleep(0.3)
        store.decide(Decision(proposal.id, "applied", None, "alice", utc_now(), exit_code=0), "applied", who="alice")

    threading.Thread(target=decide).start()
    decision = store.wait(proposal.id, timeout_s=30)
    assert decision is not None and decision.status == "applied" and decision.exit_code == 0


def test_submit_refuses_a_duplicate_id(ws: Workspace, store: ProposalStore) -> None:
    proposal = store.create({"devenv.nix": new_text(ws)}, title="t", rationale="r", agent="a")
    with pytest.raises(ProposalError, match="already exists"):
        store.submit(Proposal(proposal.id, "a", "t", "r", utc_now(), proposal.changes))


def test_content_over_the_size_limit_is_refused(project: Path) -> None:
    (project / "omni-tui.toml").write_text("[guard]\nmax_bytes = 100\n")
    ws = Workspace.open(project)
    with pytest.raises(ProposalError, match="over the size limit of 100 bytes"):
        ProposalStore(ws).create({"devenv.nix": "#" * 101}, title="t", rationale="r", agent="a")


def test_a_symlinked_proposal_file_is_quarantined_unread(ws: Workspace, store: ProposalStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(valid_doc(ws, id="20000101T000000Z-link00")))
    (ws.paths.proposals / "20000101T000000Z-link00.json").symlink_to(secret)
    assert store.entries() == []
    (bad,) = store.quarantined()
    assert bad.error == "a proposal must be a regular file, not a symlink"
    assert secret.exists()
