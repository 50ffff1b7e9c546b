"""Letters: which ones fit the state of a case (SPEC 7), the claim they show, worked by hand
(SPEC 6), and what a real letter prints of the debtor."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.load.loader import load_cases
from casebook.read.casefile import read_case
from casebook.read.config import read_config
from casebook.read.datafiles import plain, read_data
from casebook.site.letter_registry import registry
from casebook.site.letters import EXTRA_LETTERS, LADDER_LETTERS, TERMS, rule_for
from casebook.site.pages import Renderer
from casebook.site.views import CaseView
from tests.conftest import ROOT, diagnose, write_casebook

CONFIG = """\
creditor:
  name: Esempio S.r.l.
  address: "Via Verdi 2, 20121 Milano MI"
  iban: IT60X0542811101000000123456
  email: amministrazione@esempio.it
  phone: "+39 02 000000"
"""
INTEREST_FIRST = CONFIG + "interest:\n  imputation: interest-first\n"

# SPEC 6, third worked example: EUR 1,220.00 due 2025-01-31, EUR 500.00 paid 2025-04-30
WORKED = """\
---
debtor:
  name: Rossi Costruzioni S.r.l.
  vat: IT01234567890
  cf: RSSMRA80A01F205X
  sdi: M5UXCR1
  contact: Maria Bianchi, ufficio contabilità
  address: |
    Via Roma 1
    24121 Bergamo BG
invoices:
  - {number: "2025/1", date: 2025-01-01, due: 2025-01-31, amount: 1220.00}
payments:
  - {date: 2025-04-30, amount: 500.00}
---
## 2025-02-03 phone reminder — Maria Bianchi
## 2025-02-20 email written-reminder
## 2025-03-05 email final-notice
"""
WORKED_DAY = date(2025, 7, 31)

# one invoice unpaid, one paid late: two interest lines and two EUR 40, one of them paid late
TWO = """\
---
debtor: {name: Verdi S.r.l.}
invoices:
  - {number: "2025/1", date: 2025-01-01, due: 2025-01-31, amount: 1000.00}
  - {number: "2025/2", date: 2025-02-01, due: 2025-03-31, amount: 500.00}
payments:
  - {date: 2025-05-15, amount: 500.00, invoice: "2025/2"}
---
"""

# a dispute open on one invoice; the other was paid late
DISPUTED = """\
---
debtor: {name: Edil S.r.l.}
invoices:
  - {number: "2025/10", date: 2025-08-01, due: 2025-08-31, amount: 1000.00}
  - {number: "2025/11", date: 2025-09-01, due: 2025-09-30, amount: 1830.00}
payments:
  - {date: 2025-09-30, amount: 1000.00, invoice: "2025/10"}
disputes:
  - {invoice: "2025/11", opened: 2025-10-05, reason: raccordi non conformi}
---
"""
DISPUTED_DAY = date(2025, 11, 20)

DAY = date(2026, 11, 20)

CLOSED = """\
---
debtor: {name: Il Portico S.n.c.}
invoices:
  - {number: "2026/070", date: 2026-07-01, due: 2026-07-31, amount: 1692.93}
payments:
  - {date: 2026-09-30, amount: 1000.00}
closed: {date: 2026-10-01, reason: saldo e stralcio}
---
"""

# with the lawyer, after a broken plan
LEGAL = """\
---
debtor: {name: Belvedere S.r.l.}
invoices:
  - {number: "2026/020", date: 2026-03-01, due: 2026-03-31, amount: 1000.00}
plans:
  - agreed: 2026-05-01
    instalments: [{due: 2026-05-31, amount: 500.00}, {due: 2026-06-30, amount: 500.00}]
---
## 2026-04-01 phone reminder
## 2026-04-21 email written-reminder
## 2026-05-01 email final-notice
## 2026-06-10 phone
## 2026-06-15 pec formal-notice
## 2026-07-15 note legal — to the lawyer
"""

PROMISE = """\
---
debtor:
  name: Bianchi S.r.l.
  email: amministrazione@bianchi.example.it
invoices:
  - {number: "2026/050", date: 2026-08-01, due: 2026-08-31, amount: 692.93}
promises:
  - {made: 2026-11-18, by: 2026-11-30}
---
## 2026-09-01 phone reminder
## 2026-09-21 email written-reminder
## 2026-11-18 phone — promised to pay by the end of the month
"""
BROKEN_BEFORE = PROMISE.replace(
    "promises:\n", "promises:\n  - {made: 2026-10-01, by: 2026-10-10}\n").replace(
    "## 2026-11-18", "## 2026-10-20 phone — about the missed date\n## 2026-11-18").replace(
    "2026/050", "2026/051")


def casebook(tmp_path: Path, cases: dict[str, str], config: str = CONFIG) -> Path:
    return write_casebook(tmp_path, {k: textwrap.dedent(v) for k, v in cases.items()}, config)


def view_of(root: Path, case_id: str, day: date, locale: str = "it"
            ) -> tuple[Renderer, CaseView]:
    config, cases = load_cases(root)
    config = dataclasses.replace(config, locale=locale)
    case = next(c for c in cases if c.id == case_id)
    renderer = Renderer(root, config, day, {})
    return renderer, renderer.view(case)


def letter(root: Path, case_id: str, name: str, day: date, fmt: str = "txt",
           locale: str = "it") -> str:
    renderer, view = view_of(root, case_id, day, locale)
    return renderer.letter(view, name, fmt).replace("\xa0", " ")  # money: "720,00\xa0€"


def site_letters(root: Path, case_id: str, day: date) -> tuple[str, ...]:
    return tuple(link.id for link in view_of(root, case_id, day)[1].letters)


def cli(root: Path, day: date, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", day.isoformat(), *args])
    return result.exit_code, result.output


def line_with(text: str, fragment: str) -> str:
    return next(line for line in text.splitlines() if fragment in line)


# -- item 6: one capital figure, the imputation said, the invoices named -----------------------


def test_capital_first_claim_of_the_worked_example(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"rossi": WORKED})
    text = letter(root, "rossi", "formal-notice", WORKED_DAY)
    assert "720,00 €" in line_with(text, "Totale capitale scaduto")
    assert "720,00 €" in line_with(text, "Capitale scaduto e non pagato")
    assert "52,80 €" in line_with(text, "Interessi moratori")
    assert "812,80 €" in line_with(text, "Totale dovuto")
    assert "753,17" not in text
    assert "i pagamenti ricevuti sono stati imputati al capitale" in " ".join(text.split()).lower()


def test_interest_first_shows_one_capital_figure_in_every_claim(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"rossi": WORKED}, INTEREST_FIRST)
    for name in ("formal-notice", "final-notice", "statement", "dossier"):
        for fmt in ("txt", "html"):
            for locale, old, new in (("it", "720,00", "753,17"), ("en", "720.00", "753.17")):
                text = letter(root, "rossi", name, WORKED_DAY, fmt, locale)
                assert old not in text and new in text, (name, fmt, locale)
                assert "art. 1194" in text, (name, fmt, locale)
    text = letter(root, "rossi", "formal-notice", WORKED_DAY)
    assert "753,17 €" in line_with(text, "Totale capitale scaduto")
    assert "753,17 €" in line_with(text, "Capitale scaduto e non pagato")
    assert "20,52 €" in line_with(text, "Interessi moratori")
    assert "813,69 €" in line_with(text, "Totale dovuto")
    assert "prima agli interessi e poi al capitale" in " ".join(text.split())
    english = letter(root, "rossi", "formal-notice", WORKED_DAY, locale="en")
    assert "720.00" not in english and "813.69" in english and "art. 1194" in english


def test_each_interest_and_compensation_line_names_its_invoices(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"verdi": TWO})
    text = letter(root, "verdi", "formal-notice", WORKED_DAY)
    claim = text.split("così determinata:", 1)[1].split("Totale dovuto", 1)[0]
    interest = [block for block in claim.split("\n  Interessi")[1:]]
    assert len(interest) == 2
    assert "fattura n. 2025/1" in interest[0] and "fattura n. 2025/2" in interest[1]
    flat = " ".join(claim.split())
    assert "2 fatture: n. 2025/1 e 2025/2" in flat
    assert "pagata in ritardo" in flat and "pagate in ritardo" not in flat
    assert "comprese quelle" not in text
    page = letter(root, "verdi", "formal-notice", WORKED_DAY, "html")
    assert "sulla fattura n. 2025/1" in page and "sulla fattura n. 2025/2" in page


def test_a_disputed_invoice_is_never_claimed(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"edil": DISPUTED})
    for name in ("statement", "dossier"):
        text = letter(root, "edil", name, DISPUTED_DAY)
        flat = " ".join(text.split())
        # the interest of 2025/10 (paid late: 30 days at 10.15 % on 1,000.00) and its EUR 40
        assert "8,34 €" in flat and "48,34 €" in flat, name
        assert "80,00" not in flat and "1.918,34" not in flat, name
        assert "fattura n. 2025/11" not in line_with(text, "Interessi")
        assert "contestazione" in flat, name
    statement = " ".join(letter(root, "edil", "statement", DISPUTED_DAY).split())
    assert "provvedere al pagamento" not in statement
    assert site_letters(root, "edil", DISPUTED_DAY) == ("statement",)
    code, out = cli(root, DISPUTED_DAY, "letter", "edil", "formal-notice")
    assert code == 1 and "edil: no formal-notice while the dispute on invoice 2025/11" in out


# -- item 5: a letter fits the state of the case ----------------------------------------------


def test_a_closed_case_gets_no_letter(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"il-portico": CLOSED})
    assert site_letters(root, "il-portico", DAY) == ()
    code, out = cli(root, DAY, "letter", "il-portico", "statement")
    assert code == 1
    assert out.strip().splitlines() == [
        "Error: il-portico: no statement for a case closed on 2026-10-01"]
    code, _ = cli(root, DAY, "letter", "il-portico", "reminder")
    assert code == 1


def test_a_case_with_the_lawyer_gets_only_the_dossier(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"belvedere": LEGAL})
    assert site_letters(root, "belvedere", DAY) == ("dossier",)
    for name in ("statement", "plan-confirmation", "formal-notice"):
        code, out = cli(root, DAY, "letter", "belvedere", name)
        assert code == 1 and f"no {name} for a case with the lawyer" in out, name
    code, out = cli(root, DAY, "letter", "belvedere", "dossier")
    assert code == 0 and "Fascicolo" in out


def test_no_confirmation_of_a_broken_plan(tmp_path: Path) -> None:
    broken = LEGAL.split("## 2026-06-15")[0]  # the plan is broken, no fallback step yet
    root = casebook(tmp_path, {"belvedere": broken})
    assert "plan-confirmation" not in site_letters(root, "belvedere", DAY)
    code, out = cli(root, DAY, "letter", "belvedere", "plan-confirmation")
    assert code == 1 and "the payment plan agreed on 2026-05-01 is broken" in out


def test_a_pending_promise_sets_no_earlier_deadline(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"bianchi": PROMISE})
    assert site_letters(root, "bianchi", DAY) == ("promise-confirmation", "statement")
    for fmt in ("txt", "html"):
        text = " ".join(letter(root, "bianchi", "statement", DAY, fmt).split())
        assert "27 novembre 2026" not in text  # the usual 7 days would end before the 30th
        assert "entro il 30 novembre 2026" in text
        assert "692,93 €" in text
    code, out = cli(root, DAY, "letter", "bianchi", "reminder")
    assert code == 1
    assert "bianchi: no reminder while the promise to pay 692.93 by 2026-11-30 is pending" in out


def test_the_promise_is_confirmed_in_writing_with_its_plan_b(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"bianchi": PROMISE, "stalling": BROKEN_BEFORE})
    for fmt in ("txt", "html"):
        text = " ".join(letter(root, "bianchi", "promise-confirmation", DAY, fmt).split())
        assert "Conferma dell'impegno di pagamento" in text
        assert "692,93 €" in text and "entro il 30 novembre 2026" in text
        assert "ultimo avviso" in text  # the next step of the ladder
        assert "costituzione in mora" not in text and "legale" not in text
        assert "IT60 X054 2811 1010 0000 0123 456" in text or "IT60X0542811101000000123456" in text
        english = " ".join(letter(root, "bianchi", "promise-confirmation", DAY, fmt,
                                  locale="en").split())
        assert "692.93" in english and "30 November 2026" in english
        assert "final notice" in english
    # one promise broken already: a second broken one is stalling, so the plan B is the notice
    text = " ".join(letter(root, "stalling", "promise-confirmation", DAY).split())
    assert "costituzione in mora" in text
    code, out = cli(root, DAY, "letter", "bianchi", "promise-confirmation")
    assert code == 0 and "Conferma dell'impegno di pagamento" in out


def test_no_promise_confirmation_without_a_pending_promise(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"il-portico": CLOSED, "verdi": TWO})
    code, out = cli(root, DAY, "letter", "verdi", "promise-confirmation")
    assert code == 1 and "verdi: no promise-confirmation" in out


# -- item 12: what a real letter prints of the debtor -------------------------------------------


def test_the_address_block_has_the_contact_cf_and_sdi(tmp_path: Path) -> None:
    root = casebook(tmp_path, {"rossi": WORKED})
    for fmt in ("txt", "html"):
        text = letter(root, "rossi", "formal-notice", WORKED_DAY, fmt)
        assert "Alla c.a. Maria Bianchi, ufficio contabilità" in text
        assert "P.IVA IT01234567890" in text
        assert "C.F. RSSMRA80A01F205X" in text
        assert "Cod. SdI M5UXCR1" in text
        english = letter(root, "rossi", "formal-notice", WORKED_DAY, fmt, locale="en")
        assert "Attn: Maria Bianchi" in english and "M5UXCR1" in english
    assert "Alla c.a. Maria Bianchi" in letter(root, "rossi", "reminder", WORKED_DAY, "html")
    dossier = letter(root, "rossi", "dossier", WORKED_DAY)
    assert "RSSMRA80A01F205X" in dossier and "M5UXCR1" in dossier
    renderer, view = view_of(root, "rossi", WORKED_DAY)
    page = renderer.case_page(view)
    assert "RSSMRA80A01F205X" in page and "M5UXCR1" in page


def test_debtor_cf_and_sdi_are_read_and_typos_get_a_hint(tmp_path: Path) -> None:
    config = read_config(None).config
    parsed = read_case("rossi", "cases/rossi.md", textwrap.dedent(WORKED).encode(), config)
    assert parsed.case is not None and parsed.diagnostics == ()
    assert (parsed.case.debtor.cf, parsed.case.debtor.sdi) == ("RSSMRA80A01F205X", "M5UXCR1")
    typo = "---\ndebtor:\n  name: x\n  cff: RSSMRA80A01F205X\n  sdii: M5UXCR1\n---\n"
    write_casebook(tmp_path, {"rossi": typo})
    assert [(d.line, d.message) for d in diagnose(tmp_path)] == [
        (4, "unknown key 'cff' in debtor (did you mean 'cf'?)"),
        (5, "unknown key 'sdii' in debtor (did you mean 'sdi'?)"),
    ]


def test_small_slips_of_wording(tmp_path: Path) -> None:
    consumer = PROMISE.replace("name: Bianchi S.r.l.", "name: Paolo Conti\n  kind: consumer")
    root = casebook(tmp_path, {"rossi": WORKED, "conti": consumer})
    for fmt in ("txt", "html"):
        text = " ".join(letter(root, "rossi", "written-reminder", WORKED_DAY, fmt).split())
        assert "scrivendo ad amministrazione@esempio.it" in text
        dossier = letter(root, "conti", "dossier", DAY, fmt)
        assert "(consumatore (privato))" not in dossier and "(consumatore)" in dossier
        english = letter(root, "rossi", "formal-notice", WORKED_DAY, fmt, locale="en")
        assert "injunction" not in english and "payment order" in english
    (root / "casebook.yml").write_text(CONFIG.replace("amministrazione@", "crediti@"))
    text = " ".join(letter(root, "rossi", "written-reminder", WORKED_DAY).split())
    assert "scrivendo a crediti@esempio.it" in text


# -- the registry of letters (data/letters.yml) --------------------------------------------------

SHIPPED = ROOT / "casebook" / "templates" / "letters"


@pytest.mark.parametrize("name", [rule.name for rule in registry().letters])
def test_every_letter_of_the_registry_has_its_four_templates_and_its_title(name: str) -> None:
    titles = read_data("labels.yml", plain)
    for locale in ("it", "en"):
        for fmt in ("html", "txt"):
            assert (SHIPPED / locale / f"{name}.{fmt}").is_file(), (locale, fmt)
        assert titles[locale].get(f"letter.{name}"), locale


def test_every_shipped_letter_template_is_in_the_registry() -> None:
    for locale in ("it", "en"):
        shipped = {p.stem for p in (SHIPPED / locale).iterdir() if not p.name.startswith("_")}
        assert shipped == {rule.name for rule in registry().letters}, locale


def test_the_registry_keeps_the_letters_their_order_and_their_days() -> None:
    assert LADDER_LETTERS == ("reminder", "written-reminder", "final-notice", "formal-notice",
                              "dossier")
    assert EXTRA_LETTERS == ("plan-confirmation", "promise-confirmation", "statement")
    days = {name: TERMS[name] for name in (*LADDER_LETTERS, *EXTRA_LETTERS)}
    assert days == {"reminder": 7, "written-reminder": 7, "final-notice": 7,
                    "formal-notice": 15, "dossier": 7, "plan-confirmation": 7,
                    "promise-confirmation": 7, "statement": 7}


def test_a_letter_of_the_casebooks_own_asks_for_payment_only_as_a_step() -> None:
    policy = read_config(None).config.policy
    assert rule_for("thanks", policy).fits == ("not-with-lawyer",)
    first = dataclasses.replace(policy.steps[0], letter="thanks")
    own_step = dataclasses.replace(policy, steps=(first, *policy.steps[1:]))
    assert rule_for("thanks", own_step).fits == ("not-with-lawyer", "not-closed", "overdue")
    assert rule_for("thanks", own_step).days == 7
