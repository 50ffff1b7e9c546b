"""Writing what an import found: new case files, items inserted into existing ones, and the
e-invoices copied under `invoices/`.

An import is planned first (`invoices_in`, `payments_in`) as `Change`s, one per case file, and
`Copy`s; here each change becomes the file's new text by the same insertions as `pay`
(`casebook.write.edit`), is read back and compared with the facts it must hold, and only then
written, atomically, unless the file changed on disk since it was read. A dry run does all of
that but the writing, so it refuses what the real run would refuse.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path

from casebook.atomic import write_atomic, write_many
from casebook.diagnostics import Diagnostic, Severity
from casebook.model import Case, Config, Credit, Debtor, Invoice, Payment
from casebook.read.casefile import Parsed, read_case
from casebook.read.discover import CASES_DIR
from casebook.write import edit
from casebook.write.readback import verify_case
from casebook.write.scaffold import new_case_text
from casebook.write.values import Refused

_LEGAL_FORMS = re.compile(
    r"\b(s\.?\s?r\.?\s?l\.?(\s?s\.?)?|s\.?\s?p\.?\s?a\.?|s\.?\s?n\.?\s?c\.?|s\.?\s?a\.?\s?s\.?|"
    r"s\.?\s?c\.?\s?a\.?\s?r\.?\s?l\.?|soc\.?\s?coop\.?)$|\s&\s?c\.?$", re.IGNORECASE)


@dataclass
class Change:
    """What an import adds to one case file (a new one when `debtor` is set)."""

    path: str  # relative to the casebook root
    case_id: str
    debtor: Debtor | None = None  # for a new case
    invoices: list[Invoice] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    iban: str | None = None  # debtor.iban learned
    said: list[str] = field(default_factory=list)  # one line per addition, for the report

    @property
    def empty(self) -> bool:
        return not (self.debtor or self.invoices or self.credits or self.payments or self.iban)


@dataclass(frozen=True)
class Copy:
    target: str  # relative to the casebook root: invoices/<name>
    data: bytes


def slug_for(name: str, taken: Iterable[str]) -> str:
    """A case id from a debtor's name: `Rossi Costruzioni S.r.l.` → `rossi-costruzioni`
    (accents dropped, the legal form left out), `-2`, `-3`… when taken."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = _LEGAL_FORMS.sub("", plain.strip().rstrip(",").strip())
    base = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60].strip("-") or "debtor"
    used = set(taken)
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    return slug


def new_text(change: Change, config: Config, today: date, origin: str) -> str:
    """A new case file for `change.debtor`, with a note saying where it came from."""
    debtor = change.debtor
    assert debtor is not None
    text = new_case_text(debtor.name, debtor.kind, None, today, config.locale)
    for key in ("vat", "cf", "address", "pec", "sdi", "iban"):
        value = getattr(debtor, key)
        if value:
            text = edit.add_debtor_key(text, key, value)
    return text.replace("\n---\n## ", f"\n---\n{_origin(config, origin)}\n\n## ", 1)


def _origin(config: Config, origin: str) -> str:
    if config.locale == "it":
        return f"Pratica aperta da `casebook import` ({origin})."
    return f"Case opened by `casebook import` ({origin})."


def changed_text(before: str, change: Change) -> str:
    text = before
    if change.iban:
        text = edit.add_debtor_key(text, "iban", change.iban)
    for invoice in change.invoices:
        text = edit.insert_invoice(text, invoice)
    for credit in change.credits:
        text = edit.insert_credit(text, credit)
    for payment in change.payments:
        text = edit.insert_payment(text, payment)
    return text


@dataclass
class Written:
    diagnostics: list[Diagnostic] = field(default_factory=list)  # refusals and new warnings
    files: list[str] = field(default_factory=list)  # what was (or would be) written


def apply(root: Path, config: Config, today: date, changes: Sequence[Change],
          copies: Sequence[Copy], origin: str, *, dry_run: bool) -> Written:
    """Check every change and, unless `dry_run`, write the copies, then the case files."""
    done = Written()
    ready: list[tuple[Path, bytes | None, bytes]] = []
    wanted = [change for change in changes if not change.empty]
    for change, prepared in zip(wanted, _prepared(root, config, today, wanted, origin),
                                strict=True):
        if isinstance(prepared, str):
            done.diagnostics.append(Diagnostic(change.path, 1, 1, Severity.ERROR, "refused",
                                               f"nothing was written to it: {prepared}"))
            continue
        before, after, warnings = prepared
        done.diagnostics.extend(warnings)
        ready.append((root / change.path, before, after))
    if dry_run:
        done.files = [c.target for c in copies] + [_rel(root, p) for p, _, _ in ready]
        return done
    _write(root, copies, ready, done)
    return done


Prepared = tuple[bytes | None, bytes, list[Diagnostic]] | str  # or why it is refused
PARALLEL_FROM = 200  # changes: below this, forking costs more than it saves


def _prepared(root: Path, config: Config, today: date, changes: list[Change],
              origin: str) -> list[Prepared]:
    """Each change made and read back (on every core when there are many)."""
    work = partial(_prepare_one, root, config, today, origin=origin)
    cores = os.cpu_count() or 1
    if len(changes) < PARALLEL_FROM or cores < 2:
        return [work(change) for change in changes]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=cores, mp_context=context) as pool:
        return list(pool.map(work, changes, chunksize=64))


def _prepare_one(root: Path, config: Config, today: date, change: Change, *,
                 origin: str) -> Prepared:
    try:
        return _prepare(root, config, today, change, origin)
    except Refused as refused:
        return refused.message


def _write(root: Path, copies: Sequence[Copy],
           ready: list[tuple[Path, bytes | None, bytes]], done: Written) -> None:
    """The copies, then the case files that did not change on disk meanwhile."""
    for copy in copies:
        target = root / copy.target
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, copy.data, exclusive=True)
            done.files.append(copy.target)
    files: list[tuple[Path, bytes, bool]] = []
    for path, before, after in ready:
        current = path.read_bytes() if path.exists() else None
        if current != before:
            done.diagnostics.append(Diagnostic(
                _rel(root, path), 1, 1, Severity.ERROR, "changed",
                "the file changed on disk while casebook was working on it; nothing was "
                "written to it: run the import again"))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        files.append((path, after, before is None))
    written: list[Path] = []
    try:
        write_many(files, written)
    finally:
        done.files.extend(_rel(root, path) for path in written)


def _prepare(root: Path, config: Config, today: date, change: Change,
             origin: str) -> tuple[bytes | None, bytes, list[Diagnostic]]:
    """(the bytes on disk or None, the new bytes, new warnings); raises Refused."""
    path = root / change.path
    if change.debtor is not None:
        if path.exists():
            raise Refused("a file of that name exists already")
        text = changed_text(new_text(change, config, today, origin), replace(change, iban=None))
        data = text.encode()
        parsed = read_case(change.case_id, change.path, data, config)
        errors = [d for d in parsed.diagnostics if d.severity is Severity.ERROR]
        if parsed.case is None or errors:
            raise Refused("the new case file would not validate:\n"
                          + "\n".join(d.format() for d in errors or parsed.diagnostics))
        if len(parsed.case.invoices) != len(change.invoices):
            raise Refused("the new case file would not read back as written")
        return None, data, list(parsed.diagnostics)
    before = path.read_bytes()
    old = read_case(change.case_id, change.path, before, config)
    if old.case is None:
        raise Refused("the case file cannot be read; fix it first")
    data = changed_text(before.decode("utf-8"), change).encode()
    after = read_case(change.case_id, change.path, data, config)
    return before, data, verify_case(old, after, _expected(old, change),
                                     "the additions would not read back as written (an "
                                     "unusual layout of the front matter); add them by hand")


def _expected(old: Parsed, change: Change) -> Case:
    case = old.case
    assert case is not None
    debtor = replace(case.debtor, iban=change.iban) if change.iban else case.debtor
    return replace(case, debtor=debtor, invoices=(*case.invoices, *change.invoices),
                   credits=(*case.credits, *change.credits),
                   payments=(*case.payments, *change.payments))


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def case_path(case_id: str) -> str:
    return f"{CASES_DIR}/{case_id}.md"
