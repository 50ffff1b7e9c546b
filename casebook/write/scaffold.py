"""New files: `casebook init` (a whole casebook) and `casebook new` (one case).

Everything here writes only files that do not exist yet, atomically, and checks that what it
writes validates before writing it. Dates in the examples are set relative to the given day so
a new casebook shows live next actions at once.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from string import Template

from casebook.atomic import write_atomic
from casebook.diagnostics import Diagnostic, Severity
from casebook.engine.reasons import message
from casebook.errors import CasebookError, WouldOverwrite
from casebook.load.loader import CASES_DIR
from casebook.read.casefile import read_case
from casebook.read.config import CONFIG_NAME, read_config

SLUG = re.compile(r"[a-z0-9][a-z0-9_\-]*(?:/[a-z0-9][a-z0-9_\-]*)*")
GITIGNORE = "site/\n.casebook-cache/\noutbox/\n"
GITATTRIBUTES = "cases/**/*.md text eol=lf diff=markdown\ncasebook.yml text eol=lf\n"

CONFIG_TEXT = """\
# casebook settings. Every key is optional; see the README for all of them.
creditor:                      # printed on every letter
  name: Your Company S.r.l.
  address: "Via Verdi 2, 20121 Milano MI"
  vat: IT00000000000
  iban: IT60X0542811101000000123456
  pec: amministrazione@pec.example.it
  email: crediti@example.it
  phone: "+39 02 000000"
  signature: Your Name
locale: it                     # it | en: language of letters and dashboard
currency: EUR
# policy:                      # the escalation ladder and its rules; the defaults are:
#   min_gap: 7                 # days between two steps
#   promise_grace: 3           # days after a promised date before it counts as missed
#   stalling: 2                # broken promises that mean the debtor is only gaining time
#   prescription_warning: 90   # days before a claim prescribes to interrupt it
#   letters_ahead: 7           # build makes letters for the actions due within these days
policies:
  gentle: {min_gap: 14}        # a named policy, chosen per case with `policy: gentle`
"""

EXAMPLES: dict[str, str] = {
    "esempio-srl": """\
---
debtor:
  name: Esempio Forniture S.r.l.
  kind: business
  vat: IT01234567890
  address: |
    Via Roma 1
    24121 Bergamo BG
  pec: esempioforniture@pec.example.it
  email: amministrazione@esempio.example.it
  contact: Maria Bianchi, amministrazione
owner: me
tags: [example]

invoices:
  - number: "EX-1"
    date: $issued
    due: $due
    amount: 1220.00
    description: example supply
---
An example case: delete it when you add your own (`casebook new SLUG --name NAME`).

## $called phone reminder — Maria Bianchi
Friendly reminder by phone; she will check with the bank and call back.
""",
    "mario-rossi": """\
---
debtor:
  name: Mario Rossi
  kind: consumer
  address: |
    Via Garibaldi 10
    10121 Torino TO
  email: mario.rossi@example.it
owner: me

invoices:
  - number: "EX-2"
    date: $issued_recent
    due: $due_later
    amount: 350.00
    description: example service, not yet due
---
""",
}


def init(directory: Path, today: date) -> list[Path]:
    """Write a new casebook into `directory`; refuse if any of its files exists."""
    values = {
        "issued": today - timedelta(days=70),
        "due": today - timedelta(days=40),
        "called": today - timedelta(days=35),
        "issued_recent": today - timedelta(days=5),
        "due_later": today + timedelta(days=25),
    }
    files = {
        CONFIG_NAME: CONFIG_TEXT,
        ".gitignore": GITIGNORE,
        ".gitattributes": GITATTRIBUTES,
        **{f"{CASES_DIR}/{slug}.md": Template(text).substitute(values)
           for slug, text in EXAMPLES.items()},
    }
    for name in files:
        if (directory / name).exists():
            raise WouldOverwrite(str(directory / name))
    loaded = read_config(CONFIG_TEXT.encode())
    _must_be_clean(loaded.diagnostics)
    for name, text in files.items():
        if name.startswith(CASES_DIR):
            slug = name.removeprefix(CASES_DIR + "/").removesuffix(".md")
            _must_be_clean(read_case(slug, name, text.encode(), loaded.config).diagnostics)
    written = []
    (directory / CASES_DIR).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = directory / name
        write_atomic(path, text.encode(), exclusive=True)
        written.append(path)
    return written


def new_case_text(name: str, kind: str, owner: str | None, today: date,
                  locale: str = "en") -> str:
    """A new case file; its first log entry, an internal note, says in the casebook's locale
    that the case was opened."""
    lines = ["---", "debtor:", f"  name: {json.dumps(name, ensure_ascii=False)}",
             f"  kind: {kind}"]
    if owner:
        lines.append(f"owner: {json.dumps(owner, ensure_ascii=False)}")
    opened = message(locale, "note.case-opened")
    lines += ["", "invoices: []", "---", f"## {today.isoformat()} note — {opened}", ""]
    return "\n".join(lines)


def new_case(root: Path, slug: str, name: str, kind: str, owner: str | None,
             today: date) -> Path:
    """Write cases/<slug>.md for a new debtor; refuse a bad slug or an existing file."""
    if not SLUG.fullmatch(slug) or ".." in slug:
        raise CasebookError(f"{slug!r} is not a case id: use a-z, 0-9, '-', '_', and '/' "
                            "for sub-folders, like 2026/rossi-costruzioni")
    if not name.strip():
        raise CasebookError("the debtor's name must not be empty")
    path = root / CASES_DIR / f"{slug}.md"
    relative = f"{CASES_DIR}/{slug}.md"
    if path.exists():
        raise WouldOverwrite(relative)
    config_path = root / CONFIG_NAME
    config = read_config(config_path.read_bytes() if config_path.is_file() else None).config
    text = new_case_text(name, kind, owner, today, config.locale)
    _must_be_clean(read_case(slug, relative, text.encode(), config).diagnostics)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(path, text.encode(), exclusive=True)
    except FileExistsError:
        raise WouldOverwrite(relative) from None
    return path


def _must_be_clean(diagnostics: tuple[Diagnostic, ...]) -> None:
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise CasebookError("refusing to write a file that would not validate:\n"
                            + "\n".join(d.format() for d in errors))
