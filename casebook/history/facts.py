"""A case's git history as facts: what each commit added, changed or removed.

Owns two things: `diff_cases`, which compares two parsed versions of a case fact by fact
(matching list items by the identity keys of `FACTS`), and `file_history`, which reads every
version of one case file from git (following renames) and diffs each against its parent.
It reads git and never writes anything; it never reads the clock. Old versions are parsed with
today's casebook.yml: the facts of a file do not depend on the config beyond step names.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from casebook.diagnostics import Severity, ordered
from casebook.errors import CasebookError
from casebook.load.loader import case_id, load_config
from casebook.model import Case, Config, Instalment
from casebook.read.casefile import read_case

Sign = Literal["+", "-", "~"]
NONE = "(none)"
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


class HistoryUnavailable(CasebookError):
    """No git, or no repository: the history cannot be read at all."""


@dataclass(frozen=True, kw_only=True)
class Change:
    """One fact added (+), removed (-) or changed (~) between two versions of a case."""

    sign: Sign
    fact: str  # the kind of fact: "invoice", "payment", "debtor.pec", "log", …
    text: str  # what a reader sees after the sign

    @property
    def line(self) -> str:
        return f"{self.sign} {self.text}"


@dataclass(frozen=True, kw_only=True)
class CommitFacts:
    """One commit that touched the case file, and what it did to the facts."""

    hash: str
    short: str
    date: str
    author: str
    subject: str
    path: str  # the file's path at this commit, relative to the casebook root
    renamed_from: str | None = None
    deleted: bool = False
    error: str | None = None  # the first error, when this version does not parse
    compared_with: str | None = None  # short hash, when not the parent's version (it did not parse)
    changes: tuple[Change, ...] = ()


# -- how facts are shown ------------------------------------------------------------------


class _Show:
    """Values as text: money with the currency sign, ISO dates, `(none)` for a missing value."""

    def __init__(self, currency: str) -> None:
        self.currency = currency

    def money(self, amount: Decimal) -> str:
        symbol = _SYMBOLS.get(self.currency)
        return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {self.currency}"

    def __call__(self, value: Any) -> str:
        if value is None:
            return NONE
        if isinstance(value, Decimal):
            return self.money(value)
        if isinstance(value, tuple):
            return ", ".join(self(v) for v in value)
        if isinstance(value, Instalment):
            return f"{value.due} {self.money(value.amount)}"
        return " / ".join(str(value).strip().splitlines())

    def opt(self, before: str, value: Any) -> str:
        """`before` + the value, or nothing when the value is missing."""
        return "" if value in (None, "", ()) else before + self(value)


@dataclass(frozen=True)
class Fact:
    """How one kind of listed fact is matched between versions and named in a change line."""

    name: str
    items: Callable[[Case], tuple[Any, ...]]
    key: Callable[[Any], tuple[Any, ...]]  # the identity: equal keys are the same fact
    label: Callable[[Any, _Show], str]  # names an item in a `~` line
    describe: Callable[[Any, _Show], str]  # the whole item, in a `+` or `-` line
    fields: tuple[str, ...]  # compared one by one; a difference is a `~` line


def _one(value: Any) -> tuple[Any, ...]:
    return () if value is None else (value,)


#: The identity of every kind of fact. Items with equal keys are the same fact (a changed field
#: is a `~`); unmatched items at the same position in their lists are the same fact too.
FACTS: tuple[Fact, ...] = (
    Fact("invoice", lambda c: c.invoices, lambda i: (i.number,),
         lambda i, s: f"invoice {i.number}",
         lambda i, s: f"invoice {i.number} {i.date} due {i.due} {s(i.amount)}"
                      + s.opt(" — ", i.description),
         ("number", "date", "due", "amount", "description")),
    Fact("payment", lambda c: c.payments, lambda p: (p.date, p.amount, p.invoice),
         lambda p, s: f"payment {p.date} {s(p.amount)}" + s.opt(" on ", p.invoice),
         lambda p, s: f"payment {p.date} {s(p.amount)}" + s.opt(" on ", p.invoice)
                      + s.opt(" by ", p.method) + s.opt(" ref ", p.reference),
         ("date", "amount", "invoice", "method", "reference")),
    Fact("dispute", lambda c: c.disputes, lambda d: (d.opened, d.invoice),
         lambda d, s: f"dispute {d.opened}" + s.opt(" on ", d.invoice),
         lambda d, s: f"dispute {d.opened} on {d.invoice or 'the whole case'}"
                      + s.opt(", resolved ", d.resolved) + s.opt(" — ", d.reason),
         ("opened", "invoice", "reason", "resolved")),
    Fact("promise", lambda c: c.promises, lambda p: (p.made,),
         lambda p, s: f"promise made {p.made}",
         lambda p, s: f"promise made {p.made}: by {p.by}" + s.opt(" for ", p.amount),
         ("made", "by", "amount")),
    Fact("plan", lambda c: c.plans, lambda p: (p.agreed,),
         lambda p, s: f"plan agreed {p.agreed}",
         lambda p, s: f"plan agreed {p.agreed}: {s(p.instalments)}"
                      + s.opt("; confirmed ", p.confirmed) + s.opt("; fallback ", p.fallback),
         ("agreed", "instalments", "confirmed", "fallback")),
    Fact("hold", lambda c: _one(c.hold), lambda h: (),
         lambda h, s: "hold",
         lambda h, s: f"hold until {h.until}" + s.opt(" — ", h.reason),
         ("until", "reason")),
    Fact("closed", lambda c: _one(c.closed), lambda c: (),
         lambda c, s: "closed",
         lambda c, s: f"closed {c.date}" + s.opt(" — ", c.reason),
         ("date", "reason")),
    Fact("log", lambda c: c.log, lambda e: (e.date, e.channel, e.title),
         lambda e, s: f"log {e.date} {e.channel}" + s.opt(" — ", e.title),
         lambda e, s: f"log {e.date} {e.channel}" + s.opt(" ", e.step) + s.opt(" — ", e.title),
         ("date", "channel", "step", "title", "note")),
)

#: Single values: (name, how to read it, its value when the case file does not exist).
SCALARS: tuple[tuple[str, Callable[[Case], Any], Any], ...] = (
    *((f"debtor.{name}", lambda c, n=name: getattr(c.debtor, n), "business" if name == "kind"
       else None)
      for name in ("name", "kind", "vat", "cf", "sdi", "address", "pec", "email", "phone",
                   "contact")),
    ("owner", lambda c: c.owner, None),
    ("policy", lambda c: c.policy, None),
)

#: Free text compared as a whole: an edit is reported, never the text itself.
_LONG_TEXT = frozenset({"note"})


# -- diffing two versions -------------------------------------------------------------------


def diff_cases(old: Case | None, new: Case | None, *, currency: str = "EUR") -> list[Change]:
    """Every fact added, changed or removed from `old` to `new` (None: the file does not exist).

    Order: the debtor and other single values, tags, then each kind of `FACTS` in table order,
    the free notes last but one and the contact log last; within a kind, changes and removals in
    the old file's order, then additions in the new file's order.
    """
    show = _Show(currency)
    changes = list(_scalar_changes(old, new, show))
    changes += _tag_changes(old, new)
    for fact in FACTS[:-1]:
        changes += _fact_changes(fact, old, new, show)
    changes += _notes_changes(old, new)
    changes += _fact_changes(FACTS[-1], old, new, show)
    return changes


def _scalar_changes(old: Case | None, new: Case | None, show: _Show) -> Iterator[Change]:
    for name, read, absent in SCALARS:
        before = absent if old is None else read(old)
        after = absent if new is None else read(new)
        if before == after:
            continue
        if before is None:
            yield Change(sign="+", fact=name, text=f"{name}: {show(after)}")
        elif after is None:
            yield Change(sign="-", fact=name, text=f"{name}: {show(before)}")
        else:
            yield Change(sign="~", fact=name, text=f"{name}: {show(before)} → {show(after)}")


def _tag_changes(old: Case | None, new: Case | None) -> list[Change]:
    before = () if old is None else old.tags
    after = () if new is None else new.tags
    return ([Change(sign="-", fact="tag", text=f"tag {t}") for t in before if t not in after]
            + [Change(sign="+", fact="tag", text=f"tag {t}") for t in after if t not in before])


def _notes_changes(old: Case | None, new: Case | None) -> list[Change]:
    before = "" if old is None else old.notes.strip()
    after = "" if new is None else new.notes.strip()
    if before == after:
        return []
    if not before:
        return [Change(sign="+", fact="notes", text="notes")]
    if not after:
        return [Change(sign="-", fact="notes", text="notes")]
    return [Change(sign="~", fact="notes", text="notes: edited")]


def _fact_changes(fact: Fact, old: Case | None, new: Case | None, show: _Show) -> list[Change]:
    before = () if old is None else fact.items(old)
    after = () if new is None else fact.items(new)
    pairs = match(before, after, fact.key)
    changes: list[Change] = []
    for index, item in enumerate(before):
        partner = pairs.get(index)
        if partner is None:
            changes.append(Change(sign="-", fact=fact.name, text=fact.describe(item, show)))
        else:
            changes += _field_changes(fact, item, after[partner], show)
    paired = set(pairs.values())
    changes += [Change(sign="+", fact=fact.name, text=fact.describe(item, show))
                for index, item in enumerate(after) if index not in paired]
    return changes


def match(before: tuple[Any, ...], after: tuple[Any, ...],
          key: Callable[[Any], tuple[Any, ...]]) -> dict[int, int]:
    """Old index → new index of the same fact: equal keys first (in order, so repeated keys
    pair up one by one), then the items left over at the same position."""
    waiting: dict[tuple[Any, ...], deque[int]] = defaultdict(deque)
    for index, item in enumerate(before):
        waiting[key(item)].append(index)
    pairs: dict[int, int] = {}
    for index, item in enumerate(after):
        queue = waiting.get(key(item))
        if queue:
            pairs[queue.popleft()] = index
    taken = set(pairs.values())
    for index in range(min(len(before), len(after))):
        if index not in pairs and index not in taken:
            pairs[index] = index
    return pairs


def _field_changes(fact: Fact, old: Any, new: Any, show: _Show) -> list[Change]:
    label = fact.label(old, show)
    changes: list[Change] = []
    for name in fact.fields:
        before, after = getattr(old, name), getattr(new, name)
        if _comparable(before) == _comparable(after):
            continue
        text = (f"{label}: {name} edited" if name in _LONG_TEXT
                else f"{label}: {name} {show(before)} → {show(after)}")
        changes.append(Change(sign="~", fact=fact.name, text=text))
    return changes


def _comparable(value: Any) -> Any:
    """The value without source positions (which move whenever lines above are edited)."""
    if isinstance(value, tuple):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, Instalment):
        return (value.due, value.amount)
    if isinstance(value, str):
        return value.strip()
    return value


# -- reading the history from git -----------------------------------------------------------

_RECORD = "\x1e"
_FIELD = "\x1f"
_FORMAT = f"--format={_RECORD}%H{_FIELD}%h{_FIELD}%ad{_FIELD}%an{_FIELD}%P{_FIELD}%s"


@dataclass(frozen=True)
class _Entry:
    """One commit of `git log --follow`, with the file's path there and at its parent."""

    hash: str
    short: str
    day: str
    author: str
    parent: str | None
    subject: str
    status: str
    path: str  # relative to the top of the repository
    parent_path: str


def file_history(root: Path, relative_path: str, since: str | None = None, *,
                 config: Config | None = None) -> list[CommitFacts]:
    """The commits that touched `relative_path` (relative to the casebook root), newest first,
    each with the facts it changed; with `since`, only the commits of `since..HEAD`.

    Raises HistoryUnavailable without git or outside a repository, CasebookError for an unknown
    revision; a case file with no commits has an empty history.
    """
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    wanted = None if since is None else _commits_after(root, since)
    if not _has_commits(root):
        return []
    entries = parse_log(_git(root, "log", "--follow", "-M", "-z", "--name-status",
                             "--date=short", _FORMAT, "--", relative_path),
                        prefix + relative_path)
    config = config if config is not None else load_config(root)[0]
    versions = _Versions(root, config, prefix, entries)
    found = [_facts(entry, versions, prefix, config.currency) for entry in reversed(entries)]
    return [f for f in reversed(found) if wanted is None or f.hash in wanted]


def parse_log(log: str, path: str) -> list[_Entry]:
    """`git log -z --name-status` records, newest first, following the file back through its
    renames (`path` is its path at HEAD, relative to the top of the repository)."""
    entries: list[_Entry] = []
    current = path
    for record in log.split(_RECORD)[1:]:
        header, _, changes = record.partition("\0")
        full, short, day, author, parents, subject = [*header.split(_FIELD, 5), *[""] * 6][:6]
        words = [w for w in changes.lstrip("\n").split("\0") if w]
        status = words[0][:1] if words else ""
        paths = words[1:3] if words else []
        new_path = paths[-1] if paths else current
        old_path = paths[0] if status in ("R", "C") and len(paths) == 2 else new_path
        parent = parents.split()[0] if parents.split() else None
        entries.append(_Entry(full, short, day, author, parent, subject, status, new_path,
                              old_path))
        current = old_path
    return entries


def _facts(entry: _Entry, versions: _Versions, prefix: str, currency: str) -> CommitFacts:
    facts = CommitFacts(
        hash=entry.hash, short=entry.short, date=entry.day, author=entry.author,
        subject=entry.subject, path=_relative(entry.path, prefix),
        renamed_from=(_relative(entry.parent_path, prefix) if entry.status == "R" else None),
        deleted=entry.status == "D",
    )
    new = None if facts.deleted else versions.case(entry.hash, entry.path)
    if isinstance(new, str):
        return replace(facts, error=new)
    old = None if entry.parent is None else versions.case(entry.parent, entry.parent_path)
    compared_with = None
    if isinstance(old, str):  # the parent's version did not parse: compare with the last good one
        compared_with, old = versions.last_good if versions.last_good else (None, None)
    versions.last_good = None if new is None else (entry.short, new)
    return replace(facts, compared_with=compared_with,
                   changes=tuple(diff_cases(old, new, currency=currency)))


class _Versions:
    """Every version of the file, read from git in one `cat-file --batch` and parsed once."""

    def __init__(self, root: Path, config: Config, prefix: str, entries: list[_Entry]) -> None:
        self.config = config
        self.prefix = prefix
        specs = {f"{e.hash}:{e.path}" for e in entries if e.status != "D"}
        specs |= {f"{e.parent}:{e.parent_path}" for e in entries if e.parent}
        self.blobs = read_blobs(root, sorted(specs))
        self.parsed: dict[str, Case | str] = {}
        self.last_good: tuple[str, Case] | None = None

    def case(self, commit: str, path: str) -> Case | str | None:
        """The case at `commit`; None when the file is not there; the first error as text when
        it does not parse."""
        found = self.blobs.get(f"{commit}:{path}")
        if found is None:
            return None
        blob, data = found
        if blob not in self.parsed:
            self.parsed[blob] = self._parse(path, data)
        return self.parsed[blob]

    def _parse(self, path: str, data: bytes) -> Case | str:
        relative = _relative(path, self.prefix)
        parsed = read_case(case_id(relative), relative, data, self.config)
        errors = [d for d in ordered(parsed.diagnostics) if d.severity is Severity.ERROR]
        if errors:
            return f"line {errors[0].line}: {errors[0].message}"
        if parsed.case is None:
            return "the file could not be read"
        return parsed.case


def read_blobs(root: Path, specs: list[str]) -> dict[str, tuple[str, bytes]]:
    """`COMMIT:PATH` → (blob id, bytes) for each spec that names a file; like `git show
    COMMIT:PATH` for each, in one process."""
    if not specs:
        return {}
    out = _run(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs).encode())
    found: dict[str, tuple[str, bytes]] = {}
    at = 0
    for spec in specs:
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].decode("utf-8", errors="replace").split()
        at = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<spec> missing", "ambiguous"
            continue
        size = int(header[2])
        if header[1] == "blob":
            found[spec] = (header[0], out[at:at + size])
        at += size + 1
    return found


def _relative(path: str, prefix: str) -> str:
    """A path from the top of the repository, relative to the casebook root when inside it."""
    return path.removeprefix(prefix)


def _commits_after(root: Path, since: str) -> set[str]:
    try:
        if since.startswith("-"):  # never let a revision be read as an option of git
            raise CasebookError(since)
        _git(root, "rev-parse", "--verify", "--quiet", f"{since}^{{commit}}")
    except CasebookError:
        raise CasebookError(f"unknown revision {since!r}: --since takes a commit, a tag or "
                            "a branch") from None
    return set(_git(root, "rev-list", f"{since}..HEAD").split())


def _has_commits(root: Path) -> bool:
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    except CasebookError:
        return False
    return True


def _git(root: Path, *args: str) -> str:
    return _run(root, *args).decode("utf-8", errors="replace")


def _run(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], input=stdin,
                                capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        raise HistoryUnavailable("git is not installed (or not on PATH); casebook history "
                                 "reads the case file's git history") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip()
        if "not a git repository" in message:
            raise HistoryUnavailable(f"{root} is not in a git repository; casebook history "
                                     "reads the case file's git history")
        raise CasebookError(f"git {args[0]} failed: {message.splitlines()[0] if message else ''}")
    return result.stdout
