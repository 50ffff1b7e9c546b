"""Invoices payable in parts (`schedule`) and credit notes (`credits`), SPEC 2 and 6: worked by
hand, business debtor, commercial rate 11.15 % in 2025-H1 and 10.15 % in 2025-H2."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from casebook.cli.main import main
from casebook.engine.billing import billed
from casebook.engine.interest import interest_context, interest_for_case
from casebook.engine.situation import Situation
from casebook.model import (
    Case,
    Config,
    Credit,
    Debtor,
    Instalment,
    InterestSettings,
    Invoice,
    Payment,
)
from casebook.read.config import read_config

D = Decimal
TWO_PARTS = Invoice(number="2025/7", date=date(2025, 1, 1), due=date(2025, 1, 31),
                    amount=D("2000.00"),
                    schedule=(Instalment(due=date(2025, 1, 31), amount=D("1000.00")),
                              Instalment(due=date(2025, 3, 31), amount=D("1000.00"))))
CREDITED = Invoice(number="2025/9", date=date(2025, 3, 1), due=date(2025, 3, 31),
                   amount=D("1220.00"))
CREDIT = Credit(number="NC-1", date=date(2025, 5, 15), amount=D("220.00"), invoice="2025/9")
CONFIG: Config = read_config(None).config


def case(*invoices: Invoice, payments: tuple[Payment, ...] = (),
         credits: tuple[Credit, ...] = ()) -> Case:
    return Case(id="x", path="cases/x.md", debtor=Debtor(name="X"), invoices=invoices,
                payments=payments, credits=credits)


def interest(c: Case, until: date):  # type: ignore[no-untyped-def]
    return interest_for_case(c, interest_context(InterestSettings(), until))


def test_each_part_bears_interest_from_its_own_due_date_and_the_40_is_owed_once() -> None:
    # part 1: 1,000.00 × 11.15 % × 150 days (1 Feb – 30 Jun) = 45.82
    # part 2: 1,000.00 × 11.15 % × 91 days (1 Apr – 30 Jun) = 27.80
    result = interest(case(TWO_PARTS), date(2025, 6, 30))
    assert [(i.number, i.invoice, i.accrued) for i in result.invoices] == [
        ("2025/7 (1/2)", "2025/7", D("45.82")), ("2025/7 (2/2)", "2025/7", D("27.80"))]
    assert result.interest == D("73.62")
    assert result.compensation == D("40.00")
    assert result.claim == D("2113.62")


def test_only_the_parts_due_are_overdue() -> None:
    s = Situation(case(TWO_PARTS), CONFIG.policy, date(2025, 3, 15))
    assert s.balance == D("2000.00")
    assert s.overdue_amount == D("1000.00")
    assert s.d0 == date(2025, 1, 31)
    later = Situation(case(TWO_PARTS), CONFIG.policy, date(2025, 4, 1))
    assert later.overdue_amount == D("2000.00")


def test_a_payment_naming_the_invoice_fills_its_parts_in_due_order() -> None:
    # 1,200.00 on 10 Mar: part 1 paid (interest 38 days on 1,000.00 = 11.61), 200.00 on part 2;
    # part 2: 800.00 × 11.15 % × 91 days = 22.24; claim 800.00 + 33.85 + 40.00
    paid = case(TWO_PARTS, payments=(Payment(date=date(2025, 3, 10), amount=D("1200.00"),
                                             invoice="2025/7"),))
    result = interest(paid, date(2025, 6, 30))
    assert [(i.capital, i.accrued) for i in result.invoices] == [
        (D("0.00"), D("11.61")), (D("800.00"), D("22.24"))]
    assert result.claim == D("873.85")
    s = Situation(paid, CONFIG.policy, date(2025, 6, 30))
    assert s.allocation.residual == {"2025/7 (1/2)": D("0.00"), "2025/7 (2/2)": D("800.00")}


def test_a_credit_note_lowers_the_invoice_from_its_issue() -> None:
    # billed 1,000.00: 91 days at 11.15 % = 27.80, 92 days at 10.15 % = 25.58
    credited = case(CREDITED, credits=(CREDIT,))
    result = interest(credited, date(2025, 9, 30))
    assert result.interest == D("53.38")
    assert result.invoices[0].amount == D("1000.00")
    assert result.claim == D("1093.38")
    assert Situation(credited, CONFIG.policy, date(2025, 9, 30)).balance == D("1000.00")


def test_a_credit_note_counts_from_its_own_date() -> None:
    before = Situation(case(CREDITED, credits=(CREDIT,)), CONFIG.policy, date(2025, 5, 14))
    assert before.balance == D("1220.00")


def test_a_credit_lowers_the_earliest_parts_first_and_a_cancelled_invoice_is_not_billed() -> None:
    credit = Credit(number="NC-2", date=date(2025, 1, 2), amount=D("1200.00"), invoice="2025/7")
    parts = billed((TWO_PARTS,), (credit,), date(2025, 6, 30))
    assert [(p.number, p.amount) for p in parts] == [("2025/7 (2/2)", D("800.00"))]
    whole = Credit(number="NC-3", date=date(2025, 3, 2), amount=D("1220.00"), invoice="2025/9")
    assert billed((CREDITED,), (whole,), date(2025, 6, 30)) == ()


def write(root: Path, name: str, text: str) -> None:
    (root / "cases").mkdir(parents=True, exist_ok=True)
    (root / "cases" / name).write_text(text)


def validate(root: Path) -> list[str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", "2026-01-10", "validate"])
    return result.output.splitlines()


def test_validate_checks_schedules_credits_and_sources(tmp_path: Path) -> None:
    write(tmp_path, "a.md", """---
debtor: {name: A}
invoices:
  - number: "1"
    date: 2025-01-01
    due: 2025-02-01
    amount: 100.00
    source: ../outside.xml
    schedule: [{due: 2025-01-31, amount: 50.00}, {due: 2025-02-28, amount: 40.00}]
  - {number: "2", date: 2025-01-01, due: 2025-01-31, amount: 10.00, source: invoices/gone.xml}
credits:
  - {number: "NC 1", date: 2025-01-05, amount: 20.00, invoice: "2"}
  - {number: "NC 2", date: 2025-01-05, amount: 5.00, invoice: "3"}
---
""")
    write(tmp_path, "b.md", """---
debtor: {name: B}
invoices: [{number: "9", date: 2025-01-01, due: 2025-01-31, amount: 10.00}]
credits: [{number: "NC 1", date: 2024-12-05, amount: 1.00, invoice: "9"}]
---
""")
    lines = validate(tmp_path)
    wanted = [
        "cases/a.md:8:13: error: source must be a path inside the casebook",
        "cases/a.md:9:15: error: the schedule's parts add up to 90.00, not to the invoice's "
        "amount 100.00",
        "cases/a.md:6:10: error: with a schedule, 'due' is the first part's due date: "
        "2025-01-31, not 2025-02-01",
        "cases/a.md:10:5: warning: the invoice's source 'invoices/gone.xml' is not a file",
        "cases/a.md:12:5: error: credit notes on invoice 2 total 20.00, more than its amount "
        "10.00",
        "cases/a.md:13:63: error: this credit note names invoice '3', which is not an invoice",
        "cases/a.md:12:5: error: credit note number 'NC 1' is used more than once",
        "cases/b.md:4:11: warning: credit note NC 1 of 2024-12-05 is dated before invoice 9",
    ]
    for start in wanted:
        assert any(line.startswith(start) for line in lines), (start, lines)


def test_a_letter_names_a_scheduled_invoice_once_and_lists_its_parts(tmp_path: Path) -> None:
    root = tmp_path / "book"
    assert CliRunner().invoke(main, ["--today", "2025-06-30", "init", str(root)]).exit_code == 0
    write(root, "x.md", """---
debtor: {name: X S.r.l.}
invoices:
  - number: "2025/7"
    date: 2025-01-01
    due: 2025-01-31
    amount: 2000.00
    schedule: [{due: 2025-01-31, amount: 1000.00}, {due: 2025-03-31, amount: 1000.00}]
---
""")
    result = CliRunner().invoke(main, ["-C", str(root), "--today", "2025-06-30", "letter", "x",
                                       "formal-notice", "--format", "text"])
    assert result.exit_code == 0, result.output
    assert "Oggetto: Costituzione in mora e intimazione di pagamento – Fattura n. 2025/7 del " \
        "01/01/2025\n" in result.output
    assert "2025/7 (1/2)" in result.output and "2025/7 (2/2)" in result.output
    assert "2.000,00" in result.output
