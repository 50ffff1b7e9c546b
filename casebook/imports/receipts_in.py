"""PEC receipts into the contact log: each to the log entry of the message it names (SPEC 9).

`sent_task` is a loader task (`casebook.load.loader.load`): it lists each valid case's sent
messages, the (Message-ID, entry) pairs of its log, and is cached per file like `next`'s work.
`plan` finds for each receipt the one log entry whose note holds `Message-ID: <id>` and never
guesses: a Message-ID no entry holds, or more than one, is listed. `apply` adds each receipt's
line (`delivery.receipt_line`) at the end of that entry's note by `notes.append_to_entry`, leaves
out the receipts the note already holds (so the same receipts twice add nothing), reads the file
back (`notes.verify_appended`), and writes every changed file once, atomically, unless it changed
on disk meanwhile. It then keeps a copy of each receipt it recorded, or found recorded already, for
the lawyer's file (`site.dossier_zip`): `outbox/receipts/<message>/<kind>-<digest>.eml`
(`receipt_copy`), written atomically and never over a file that is there. A dry run does all of
that but the writing.

It never reads the clock; it reads and writes the case files it names, and reads the receipts'
files again only to keep their copies (a file that changed since it was read is not kept).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from casebook import atomic
from casebook.atomic import write_many
from casebook.diagnostics import Diagnostic, Severity
from casebook.engine.delivery import Receipt, delivery_of, receipt_line
from casebook.imports.receipts import (
    MAX_BYTES,
    NotReceipt,
    PecReceipt,
    normal_message_id,
    read_receipt,
)
from casebook.load.casebook import Task
from casebook.model import Case, Config, LogEntry
from casebook.outbox.message import OUTBOX
from casebook.read.casefile import Parsed, read_case
from casebook.write import notes
from casebook.write.values import Refused


class SentMessages(NamedTuple):
    """One valid case's sent messages (plain values: cached and sent between processes)."""

    id: str
    path: str
    sent: tuple[tuple[str, int, int], ...]  # (Message-ID normalised, log index, heading line)


def sent_messages(case: Case, config: Config) -> SentMessages:
    sent = []
    for index, entry in enumerate(case.log):
        found = delivery_of(entry).message_id
        normal = None if found is None else normal_message_id(found)
        if normal is not None:
            sent.append((normal, index, entry.pos.line))
    return SentMessages(case.id, case.path, tuple(sent))


def sent_task() -> Task[SentMessages]:
    return Task("receipts-sent", "1", sent_messages)


class Place(NamedTuple):
    """A log entry that holds a Message-ID: by its index in the log and its heading's line."""

    log_index: int
    line: int
    message_id: str


@dataclass
class Change:
    """The receipts for the log entries of one case file."""

    path: str  # relative to the casebook root
    case_id: str
    entries: dict[Place, list[PecReceipt]] = field(default_factory=dict)


@dataclass
class Plan:
    changes: list[Change]  # by path
    unmatched: list[str]  # one line each, for the report
    passing: list[str]  # receipts with nothing to record, one line each


def plan(found: Sequence[PecReceipt], others: Sequence[NotReceipt],
         cases: Iterable[SentMessages], unsearched: int = 0) -> Plan:
    """Each receipt to the one entry holding its Message-ID; `unsearched` case files (with
    errors) could not be looked into."""
    holders: dict[str, list[tuple[SentMessages, int, int]]] = {}
    for case in cases:
        for message_id, index, line in case.sent:
            holders.setdefault(message_id, []).append((case, index, line))
    changes: dict[str, Change] = {}
    unmatched = [f"not matched: {other.name} {other.why}" for other in others]
    passing = []
    skipped = (f" ({unsearched} case files with errors were not searched: casebook validate "
               "says why)" if unsearched else "")
    for pec in found:
        what = f"{pec.name} ({pec.ricevuta}) names Message-ID {pec.message_id}"
        if pec.receipt is None:
            passing.append(f"nothing to record: {what}")
            continue
        held = holders.get(pec.message_id, [])
        if len(held) != 1:
            where = ", ".join(sorted(f"{c.path}:{line}" for c, _, line in held))
            unmatched.append(f"not matched: {what}, which "
                             + (f"{len(held)} log entries hold ({where})" if held
                                else "no log entry holds" + skipped))
            continue
        case, index, line = held[0]
        change = changes.setdefault(case.path, Change(case.path, case.id))
        change.entries.setdefault(Place(index, line, pec.message_id), []).append(pec)
    return Plan([changes[path] for path in sorted(changes)], unmatched, passing)


class Outcome(NamedTuple):
    """One receipt's fate: its line added to an entry, or already there."""

    path: str
    entry: str  # "2026-11-20 pec formal-notice"
    line: str  # the receipt's line in the note
    added: bool


@dataclass
class Applied:
    outcomes: list[Outcome] = field(default_factory=list)
    entries: int = 0  # log entries that gained lines
    diagnostics: list[Diagnostic] = field(default_factory=list)  # refusals and new warnings
    files: list[str] = field(default_factory=list)  # written (or that would be)
    kept: list[str] = field(default_factory=list)  # receipts' copies written (`receipt_copy`)


def apply(root: Path, config: Config, changes: Sequence[Change], *, dry_run: bool) -> Applied:
    """Check every change and, unless `dry_run`, write the files it changes."""
    done = Applied()
    prepared: list[tuple[str, _Prepared]] = []
    for change in changes:
        try:
            prepared.append((change.path, _prepare(root, config, change)))
        except Refused as refused:
            done.diagnostics.append(Diagnostic(change.path, 1, 1, Severity.ERROR, "refused",
                                               f"nothing was written to it: {refused.message}"))
    ready = [(root / path, p.before, p.after) for path, p in prepared if p.after != p.before]
    if dry_run:
        done.files = [path for path, p in prepared if p.after != p.before]
        left_out: set[str] = set()
    else:
        left_out = _write(root, ready, done)
    for path, p in prepared:
        if path not in left_out:
            done.outcomes.extend(p.outcomes)
            done.entries += p.entries
            done.diagnostics.extend(p.warnings)
    if not dry_run:
        recorded = {path for path, _ in prepared} - left_out
        _keep_copies(root, [pec for change in changes if change.path in recorded
                            for pecs in change.entries.values() for pec in pecs], done)
    return done


# -- the copies of the receipts, for the lawyer's file -------------------------------------------

RECEIPTS = f"{OUTBOX}/receipts"


def receipts_folder(message_id: str) -> str:
    """`outbox/receipts/<12 hex>`: where the copies of the receipts of the message `message_id`
    are kept; the hex digits begin the SHA-1 of the Message-ID as `normal_message_id` writes it
    (angle brackets included, the domain in lower case), so both spellings find one folder."""
    normal = normal_message_id(message_id) or message_id
    return f"{RECEIPTS}/{hashlib.sha1(normal.encode('utf-8')).hexdigest()[:12]}"


def receipt_copy(message_id: str, ricevuta: str, data: bytes) -> str:
    """The copy of one receipt file, relative to the casebook root: its folder, then its kind
    (the X-Ricevuta word: `avvenuta-consegna`, …) and the start of the SHA-256 of its bytes, so
    the same file is kept once and two different ones never take each other's place."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{receipts_folder(message_id)}/{ricevuta}-{digest}.eml"


def _keep_copies(root: Path, recorded: Sequence[PecReceipt], done: Applied) -> None:
    """A copy of each receipt file whose line its entry holds now, unless one is there: all
    written in one batch (`atomic.write_many`), none over a file."""
    wanted: dict[Path, tuple[str, bytes]] = {}
    for pec in recorded:
        data = _read_again(pec, done)
        if data is None:
            continue
        relative = receipt_copy(pec.message_id, pec.ricevuta, data)
        path = root / relative
        if path in wanted or path.is_file():
            continue  # kept already: its name holds the digest of these very bytes
        if read_receipt(pec.name, data) != pec:
            done.diagnostics.append(_not_kept(pec, "the file changed since it was read"))
            continue
        wanted[path] = (relative, data)
    written: list[Path] = []
    try:
        for folder in dict.fromkeys(path.parent for path in wanted):
            folder.mkdir(parents=True, exist_ok=True)
        # a batch of their own, apart from the case files' write
        atomic.write_many([(path, data, True) for path, (_, data) in wanted.items()],
                          written)
    except OSError as exc:
        done.diagnostics.append(Diagnostic(
            RECEIPTS, 1, 1, Severity.WARNING, "not-kept",
            f"cannot write there: {exc.strerror or exc}; {len(wanted) - len(written)} receipts "
            "are in the log, but no copy of their files was kept for the lawyer's file"))
    finally:
        done.kept.extend(wanted[path][0] for path in written)


def _read_again(pec: PecReceipt, done: Applied) -> bytes | None:
    """The receipt's file as it is now (no larger than a receipt is)."""
    try:
        with open(pec.name, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        done.diagnostics.append(_not_kept(pec, f"cannot read it again: {exc.strerror or exc}"))
        return None
    if len(data) > MAX_BYTES:
        done.diagnostics.append(_not_kept(pec, "the file changed since it was read"))
        return None
    return data


def _not_kept(pec: PecReceipt, why: str) -> Diagnostic:
    return Diagnostic(pec.name, 1, 1, Severity.WARNING, "not-kept",
                      f"{why}; its line is in the log, but no copy of the file was kept in "
                      f"{RECEIPTS}/ for the lawyer's file")


@dataclass
class _Prepared:
    before: bytes  # on disk
    after: bytes  # to write (the same bytes when nothing is added)
    outcomes: list[Outcome]
    entries: int  # that gain lines
    warnings: list[Diagnostic]


def _prepare(root: Path, config: Config, change: Change) -> _Prepared:
    try:
        before = (root / change.path).read_bytes()
    except OSError as exc:
        raise Refused(f"cannot read it: {exc.strerror or exc}") from None
    old = read_case(change.case_id, change.path, before, config)
    if old.case is None:
        raise Refused("the case file cannot be read; fix it first")
    text = before.decode("utf-8")
    added: dict[int, list[str]] = {}
    by_entry: dict[int, list[Outcome]] = {}
    # From the last entry up, so that the lines added leave the earlier headings in place.
    for place in sorted(change.entries, key=lambda p: p.line, reverse=True):
        entry = _entry_at(old, place)
        label = " ".join([entry.date.isoformat(), entry.channel, *filter(None, [entry.step])])
        there: set[Receipt] = set(delivery_of(entry).receipts)
        outcomes = by_entry.setdefault(place.log_index, [])
        for pec in change.entries[place]:
            assert pec.receipt is not None
            line = receipt_line(pec.receipt)
            outcomes.append(Outcome(change.path, label, line, pec.receipt not in there))
            if pec.receipt not in there:
                there.add(pec.receipt)
                added.setdefault(place.log_index, []).append(line)
                text = notes.append_to_entry(text, place.line, line)
    outcomes = [o for index in sorted(by_entry) for o in by_entry[index]]
    if not added:
        return _Prepared(before, before, outcomes, 0, [])
    data = text.encode("utf-8")
    after = read_case(change.case_id, change.path, data, config)
    return _Prepared(before, data, outcomes, len(added), notes.verify_appended(old, after, added))


def _entry_at(parsed: Parsed, place: Place) -> LogEntry:
    """The entry the casebook's index named, as the file holds it now."""
    assert parsed.case is not None
    log = parsed.case.log
    entry = log[place.log_index] if place.log_index < len(log) else None
    if (entry is None or entry.pos.line != place.line
            or normal_message_id(delivery_of(entry).message_id or "") != place.message_id):
        raise Refused("the file changed while casebook was reading the casebook; run the "
                      "command again")
    return entry


def _write(root: Path, ready: list[tuple[Path, bytes, bytes]], done: Applied) -> set[str]:
    """The files that did not change on disk meanwhile, in one batch; those left out."""
    files: list[tuple[Path, bytes, bool]] = []
    left_out = set()
    for path, before, after in ready:
        try:
            current = path.read_bytes()
        except OSError:
            current = None
        if current != before:
            relative = path.relative_to(root).as_posix()
            left_out.add(relative)
            done.diagnostics.append(Diagnostic(
                relative, 1, 1, Severity.ERROR, "changed",
                "the file changed on disk while casebook was working on it; nothing was "
                "written to it: run the command again"))
            continue
        files.append((path, after, False))
    written: list[Path] = []
    try:
        write_many(files, written)
    finally:
        done.files.extend(path.relative_to(root).as_posix() for path in written)
    return left_out
