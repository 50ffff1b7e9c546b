"""Reasons (SPEC 4, 5): English with ISO dates for scripts (`next --json`, unchanged), and the
same sentence in the casebook's locale, with its number and date formats, wherever a person
reads it: the terminal, the dashboard, the case page and the calendar. Also the other sentences
the tool writes for people: the opening note of `new` and the live preview's banner."""

from __future__ import annotations

import json
import string
from datetime import date
from pathlib import Path

import icalendar
import pytest
import yaml
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.diagnostics import Diagnostic, Severity
from casebook.load.assess import Assessment, assess, assess_case
from casebook.serve.preview import Preview, inject
from casebook.site.build import BuildFailed, BuildResult, build
from tests.conftest import write_casebook
from tests.test_rules import (
    AB,
    NO_PEC,
    PLAN,
    TWO_PROMISES,
    UNCONFIRMED,
    WITH_PEC,
    A,
    case_text,
    config_of,
    log,
    paid,
    parse,
)

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)
NBSP = "\u00a0"

# -- the wording is data ------------------------------------------------------------------------


def sentences() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = yaml.safe_load(
        (ROOT / "casebook" / "data" / "reasons.yml").read_text("utf-8"))
    return table


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_locales_say_the_same_things_with_the_same_facts() -> None:
    table = sentences()
    assert set(table) == {"en", "it"}
    english, italian = table["en"], table["it"]
    shared = set(english) & set(italian)
    assert set(english) - shared <= {"ordinal.1", "ordinal.2", "ordinal.3"}  # English only
    assert set(italian) == shared
    for key in shared:
        assert fields(english[key]) == fields(italian[key]), key


def test_the_english_of_the_demo_is_what_next_json_said() -> None:
    """`next --json` keeps its English reasons, word for word (tests/golden/next-all.json)."""
    golden = {r["case"]: r["reason"]
              for r in json.loads((ROOT / "tests/golden/next-all.json").read_text("utf-8"))}
    rows = {r["case"]: r["reason"] for r in assess(ROOT, DAY).rows}
    assert {case: rows[case] for case in golden} == golden


# -- each rule's sentence, in Italian and in English for people --------------------------------

# (id, case front matter, log, day, Italian, English) — a debtor without PEC, the default policy
SAID = [
    ("closed", A + "closed: {date: 2026-03-01, reason: stralcio}", "", "2026-03-05",
     "pratica chiusa il 01/03/2026: stralcio", "case closed on 01/03/2026: stralcio"),
    ("settled", A + paid("2026-02-10 1000.00"), "", "2026-02-12",
     f"la fattura (1.000,00{NBSP}€) è stata pagata, l'ultimo versamento il 10/02/2026: si può "
     "chiudere la pratica",
     "the invoice (€1,000.00) is paid, the last payment on 10/02/2026: close the case"),
    ("settled-many", AB + paid("2026-02-10 1500.00"), "", "2026-02-12",
     f"le 2 fatture (1.500,00{NBSP}€) sono state tutte pagate, l'ultimo versamento il "
     "10/02/2026: si può chiudere la pratica",
     "all 2 invoices (€1,500.00) are paid, the last payment on 10/02/2026: close the case"),
    ("hold", A + "hold: {until: 2026-03-10, reason: ferie}", "", "2026-03-01",
     "solleciti sospesi fino al 10/03/2026 (ferie)",
     "reminders are on hold until 10/03/2026 (ferie)"),
    ("dispute", A + "disputes: [{invoice: A, opened: 2026-02-05, reason: merce rotta}]", "",
     "2026-03-01",
     "contestazione aperta dal 05/02/2026 sulla fattura A (merce rotta): va chiarita prima di "
     "qualsiasi sollecito",
     "a dispute on invoice A is open since 05/02/2026 (merce rotta): clear the complaint before "
     "any reminder"),
    ("dispute-whole-case", A + "disputes: [{opened: 2026-02-05}]", "", "2026-03-01",
     "contestazione aperta dal 05/02/2026 sull'intera pratica: va chiarita prima di qualsiasi "
     "sollecito",
     "a dispute on the whole case is open since 05/02/2026: clear the complaint before any "
     "reminder"),
    ("confirm-plan", UNCONFIRMED, "", "2026-02-10",
     f"il piano di rientro concordato il 10/02/2026 (2 rate, 1.000,00{NBSP}€) non è ancora "
     "stato confermato per iscritto",
     "the payment plan agreed on 10/02/2026 (2 instalments, €1,000.00) is not yet confirmed in "
     "writing"),
    ("await-instalment", PLAN + paid("2026-03-09 400.00"), "", "2026-03-20",
     f"piano di rientro del 10/02/2026: la rata 2 di 2 (600,00{NBSP}€) scade il 10/04/2026; "
     f"pagato finora: 400,00{NBSP}€",
     "payment plan of 10/02/2026: instalment 2 of 2 (€600.00) falls due on 10/04/2026; "
     "€400.00 paid so far"),
    ("plan-broken", PLAN, "", "2026-03-14",
     f"la rata 1 del piano di rientro del 10/02/2026 non è stata pagata (mancano 400,00{NBSP}€ "
     "dopo 3 giorni di tolleranza): il piano è saltato il 14/03/2026, quindi si passa al piano "
     "B: diffida e messa in mora",
     "instalment 1 of the payment plan of 10/02/2026 was missed (€400.00 short after 3 days of "
     "grace): plan broken on 14/03/2026, so the plan B is formal notice of default"),
    ("await-promise", A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]", "",
     "2026-02-10",
     f"il 05/02/2026 il debitore ha promesso di pagare 500,00{NBSP}€ entro il 15/02/2026",
     "on 05/02/2026 the debtor promised €500.00 by 15/02/2026"),
    ("broken-promise", A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]", "",
     "2026-02-19",
     f"la promessa del 05/02/2026 di pagare 500,00{NBSP}€ entro il 15/02/2026 non è stata "
     "mantenuta: intervenire subito",
     "the promise of 05/02/2026 to pay €500.00 by 15/02/2026 was not kept; act on it at once"),
    ("stalling", TWO_PROMISES, "", "2026-02-25",
     "2 promesse non mantenute (la 2ª il 24/02/2026): il debitore sta solo prendendo tempo, "
     "quindi subito: diffida e messa in mora",
     "2 promises broken (the 2nd on 24/02/2026): the debtor is only gaining time, so formal "
     "notice of default at once"),
    ("first-step", A, "", "2026-02-01",
     f"1.000,00{NBSP}€ scaduti dal 31/01/2026: il prossimo passo, sollecito cortese, va fatto "
     "1 giorno dopo la scadenza del 31/01/2026",
     "€1,000.00 overdue since 31/01/2026: friendly reminder is due 1 day after 31/01/2026"),
    ("next-step", A, log("2026-02-01 phone reminder"), "2026-02-05",
     f"1.000,00{NBSP}€ scaduti dal 31/01/2026: il prossimo passo, sollecito scritto, va fatto "
     "20 giorni dopo la scadenza del 31/01/2026 e 7 giorni dopo il passo precedente (sollecito "
     "cortese del 01/02/2026)",
     "€1,000.00 overdue since 31/01/2026: written reminder is due 20 days after 31/01/2026, "
     "and 7 days after friendly reminder on 01/02/2026"),
    ("call", A, log("2026-02-01 email reminder", "2026-02-20 email written-reminder",
                    "2026-03-02 email final-notice"), "2026-03-05",
     f"1.000,00{NBSP}€ scaduti dal 31/01/2026: il prossimo passo, diffida e messa in mora, va "
     "fatto 45 giorni dopo la scadenza del 31/01/2026 e 7 giorni dopo il passo precedente "
     "(ultimo avviso del 02/03/2026); prima però bisogna parlare con il debitore: nessuna "
     "telefonata, visita o incontro dal 31/01/2026",
     "€1,000.00 overdue since 31/01/2026: formal notice of default is due 45 days after "
     "31/01/2026, and 7 days after final notice on 02/03/2026; first speak to the debtor: no "
     "phone call, visit or meeting since 31/01/2026"),
    ("resumed", A + "disputes: [{invoice: A, opened: 2026-02-05, resolved: 2026-03-10}]", "",
     "2026-03-12",
     f"1.000,00{NBSP}€ scaduti dal 31/01/2026: il prossimo passo, sollecito cortese, va fatto "
     "1 giorno dopo la scadenza del 31/01/2026; la contestazione è stata risolta il 10/03/2026, "
     "quindi i solleciti riprendono il 11/03/2026",
     "€1,000.00 overdue since 31/01/2026: friendly reminder is due 1 day after 31/01/2026; "
     "after the dispute resolved on 10/03/2026, the ladder resumes on 11/03/2026"),
    ("legal", A, log("2026-02-01 phone reminder", "2026-04-20 pec formal-notice",
                     "2026-05-06 letter legal"), "2026-05-10",
     f"1.000,00{NBSP}€ scaduti dal 31/01/2026; ultimo passo, passaggio al legale, il "
     "06/05/2026: la pratica è in mano al legale",
     "€1,000.00 overdue since 31/01/2026; hand over to the lawyer done on 06/05/2026: the file "
     "is with the lawyer"),
    ("current", A, "", "2026-01-30",
     f"nulla di scaduto; prossima scadenza: fattura A (1.000,00{NBSP}€) il 31/01/2026",
     "nothing overdue; next due: invoice A (€1,000.00) on 31/01/2026"),
    ("no-invoices", A, "", "2025-12-31", "ancora nessuna fattura", "no invoices yet"),
]


def _assessed(front: str, entries: str, day: str, locale: str,
              debtor: str = NO_PEC) -> Assessment:
    config = config_of(f"locale: {locale}\n")
    return assess_case(parse(case_text(front, entries, debtor), config), config,
                       date.fromisoformat(day))


@pytest.mark.parametrize(("front", "entries", "day", "italian", "english"),
                         [row[1:] for row in SAID], ids=[row[0] for row in SAID])
def test_each_rule_speaks_italian_and_english(front: str, entries: str, day: str, italian: str,
                                              english: str) -> None:
    assert _assessed(front, entries, day, "it").said == italian
    assert _assessed(front, entries, day, "en").said == english


def test_step_names_follow_the_locale_and_custom_steps_keep_their_id() -> None:
    config = config_of("locale: it\npolicy:\n  steps: [{id: nudge, after: 5, channel: sms}]\n"
                       "  plan_fallback: null\n  stalling_step: null\n"
                       "  direct_contact_before: null\n")
    said = assess_case(parse(case_text(A), config), config, date(2026, 2, 10)).said
    assert said == (f"1.000,00{NBSP}€ scaduti dal 31/01/2026: il prossimo passo, nudge, va fatto "
                    "5 giorni dopo la scadenza del 31/01/2026")


# -- where people read it ---------------------------------------------------------------------

ROSSI = """\
---
debtor:
  name: Rossi S.r.l.
  email: amministrazione@rossi.example.it
invoices:
  - {number: "2026/7", date: 2026-07-10, due: 2026-08-09, amount: 2916.00}
---
## 2026-08-10 phone reminder — Maria
Called.
"""
ENGLISH = ("2,916.00 overdue since 2026-08-09: written-reminder is due 20 days after 2026-08-09, "
           "and 7 days after reminder on 2026-08-10")
ITALIAN = (f"2.916,00{NBSP}€ scaduti dal 09/08/2026: il prossimo passo, sollecito scritto, va "
           "fatto 20 giorni dopo la scadenza del 09/08/2026 e 7 giorni dopo il passo precedente "
           "(sollecito cortese del 10/08/2026)")
ENGLISH_FOR_PEOPLE = ("€2,916.00 overdue since 09/08/2026: written reminder is due 20 days "
                      "after 09/08/2026, and 7 days after friendly reminder on 10/08/2026")


def run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", DAY.isoformat(), *args],
                                env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


@pytest.fixture(params=[("it", ITALIAN), ("en", ENGLISH_FOR_PEOPLE)], ids=["it", "en"])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    locale, said = request.param
    return write_casebook(tmp_path, {"rossi": ROSSI}, f"locale: {locale}\n"), said


def test_scripts_keep_english_with_iso_dates(book: tuple[Path, str]) -> None:
    root, _ = book
    (row,) = json.loads(run(root, "next", "--json"))
    assert row["reason"] == ENGLISH
    (exported,) = json.loads(run(root, "export", "--format", "json"))
    assert exported["reason"] == ENGLISH


def test_the_terminal_speaks_the_locale(book: tuple[Path, str]) -> None:
    root, said = book
    table = run(root, "next")
    assert f"    Rossi S.r.l.: {said}" in table.splitlines()
    assert f"  {said}" in run(root, "show", "rossi").splitlines()


def test_the_dashboard_and_the_case_page_speak_the_locale(book: tuple[Path, str]) -> None:
    root, said = book
    build(root, DAY)
    index = (root / "site" / "index.html").read_text("utf-8")
    assert f'<p class="agenda__why">{said}</p>' in index
    assert "overdue since 2026-08-09" not in index
    page = (root / "site" / "cases" / "rossi.html").read_text("utf-8")
    assert f"<dd>{said}</dd>" in page
    assert "overdue since 2026-08-09" not in page


def test_the_calendar_speaks_the_locale(book: tuple[Path, str]) -> None:
    root, said = book
    build(root, DAY)
    text = (root / "site" / "actions.ics").read_bytes().decode("utf-8")
    assert text == run(root, "export", "--format", "ics")
    (event,) = icalendar.Calendar.from_ical(text.encode()).walk("VEVENT")
    if said == ITALIAN:
        assert str(event["SUMMARY"]) == "Sollecito scritto (E-mail): Rossi S.r.l."
        assert str(event["DESCRIPTION"]) == (f"{said} (scaduto 2.916,00{NBSP}€, stato: Scaduto; "
                                             "prescrizione: 09/08/2036)")
    else:
        assert str(event["SUMMARY"]) == "Written reminder (E-mail): Rossi S.r.l."
        assert str(event["DESCRIPTION"]) == (f"{said} (overdue €2,916.00, status: Overdue; "
                                             "prescription: 09/08/2036)")


@pytest.mark.parametrize(("locale", "title"), [("it", "pratica aperta"),
                                               ("en", "case opened")])
def test_new_writes_its_note_in_the_locale(tmp_path: Path, locale: str, title: str) -> None:
    root = write_casebook(tmp_path, {}, f"locale: {locale}\n")
    run(root, "new", "bianchi", "--name", "Bianchi S.r.l.")
    text = (root / "cases" / "bianchi.md").read_text("utf-8")
    assert f"\n## {DAY.isoformat()} note — {title}\n" in text
    assert run(root, "validate").splitlines()[-1].startswith("0 errors")


@pytest.mark.parametrize(("locale", "banner", "other"), [
    ("it", "l'aggiornamento del sito non è riuscito", "the rebuild failed"),
    ("en", "the rebuild failed — this is the last good site", "non è riuscito"),
])
def test_the_preview_banner_speaks_the_locale(tmp_path: Path, locale: str, banner: str,
                                              other: str) -> None:
    root = write_casebook(tmp_path, {"rossi": ROSSI}, f"locale: {locale}\n")
    error = Diagnostic("cases/rossi.md", 3, 1, Severity.ERROR, "yaml", "bad <yaml>")

    def failing(root: Path, today: date, out: Path, changed: object = None) -> BuildResult:
        raise BuildFailed([error])

    preview = Preview(root, lambda: DAY, builder=failing)
    assert preview.rebuild().errors[0] == "cases/rossi.md:3:1: error: bad <yaml>"
    page = inject(b"<html><body><p>site</p></body></html>",
                  *preview.site.snapshot()).decode("utf-8")
    assert banner in page and other not in page
    assert "cases/rossi.md:3:1: error: bad &lt;yaml&gt;" in page  # the diagnostic as it is


def test_a_broken_casebook_yml_keeps_the_last_known_locale(tmp_path: Path) -> None:
    root = write_casebook(tmp_path, {"rossi": ROSSI}, "locale: en\n")
    error = Diagnostic("casebook.yml", 1, 1, Severity.ERROR, "yaml", "YAML syntax")

    def failing(root: Path, today: date, out: Path, changed: object = None) -> BuildResult:
        raise BuildFailed([error])

    preview = Preview(root, lambda: DAY, builder=failing)
    preview.rebuild()
    (root / "casebook.yml").write_text("locale: [en\n")
    preview.rebuild()
    page = inject(b"<body></body>", *preview.site.snapshot()).decode("utf-8")
    assert "the rebuild failed" in page


def test_a_reason_names_the_step_whatever_its_channel() -> None:
    for debtor in NO_PEC, WITH_PEC:
        said = _assessed(PLAN, "", "2026-03-14", "it", debtor).said
        assert said.endswith("quindi si passa al piano B: diffida e messa in mora")
