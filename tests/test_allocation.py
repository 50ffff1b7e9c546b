"""Capital allocation (SPEC 5, "Balances")."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from casebook.engine.allocation import (
    Application,
    allocate,
    counted_invoices,
    payment_targets,
    payments_in_order,
)
from casebook.model import Invoice, Payment

D = Decimal
T = date(2026, 12, 31)


def inv(number: str, due: date, amount: str, issued: date | None = None) -> Invoice:
    return Invoice(number=number, date=issued or due, due=due, amount=D(amount))


def pay(day: date, amount: str, invoice: str | None = None) -> Payment:
    return Payment(date=day, amount=D(amount), invoice=invoice)


def test_named_payment_pays_its_invoice_then_the_excess_goes_by_due_date() -> None:
    invoices = [
        inv("A", date(2026, 3, 31), "100.00"),
        inv("B", date(2026, 1, 31), "200.00"),
        inv("C", date(2026, 2, 28), "300.00"),
    ]
    result = allocate(invoices, [pay(date(2026, 4, 10), "350.00", invoice="A")], T)
    assert dict(result.residual) == {"A": D("0.00"), "B": D("0.00"), "C": D("250.00")}
    assert result.applications == (
        Application(invoice="A", date=date(2026, 4, 10), amount=D("100.00"), payment=0),
        Application(invoice="B", date=date(2026, 4, 10), amount=D("200.00"), payment=0),
        Application(invoice="C", date=date(2026, 4, 10), amount=D("50.00"), payment=0),
    )
    assert result.unapplied == D(0)
    assert result.balance == D("250.00")


def test_unnamed_payments_go_by_due_date_then_file_order() -> None:
    invoices = [
        inv("late", date(2026, 5, 31), "100.00"),
        inv("first", date(2026, 4, 30), "100.00"),
        inv("second", date(2026, 4, 30), "100.00"),
    ]
    result = allocate(invoices, [pay(date(2026, 6, 1), "150.00")], T)
    assert dict(result.residual) == {"late": D("100.00"), "first": D(0), "second": D("50.00")}


def test_payments_apply_in_date_order_stable_for_equal_dates() -> None:
    invoices = [inv("A", date(2026, 1, 31), "100.00"), inv("B", date(2026, 2, 28), "100.00")]
    payments = [
        pay(date(2026, 3, 20), "80.00"),  # listed first, dated last
        pay(date(2026, 3, 10), "60.00", invoice="B"),
        pay(date(2026, 3, 10), "70.00", invoice="B"),
    ]
    order = [index for index, _ in payments_in_order(payments, T)]
    assert order == [1, 2, 0]
    result = allocate(invoices, payments, T)
    # 60 to B; 70: 40 to B, 30 to A; 80: 70 to A, 10 left over
    assert dict(result.residual) == {"A": D(0), "B": D(0)}
    assert result.unapplied == D("10.00")
    assert [(a.invoice, a.amount, a.payment) for a in result.applications] == [
        ("B", D("60.00"), 1),
        ("B", D("40.00"), 2),
        ("A", D("30.00"), 2),
        ("A", D("70.00"), 0),
    ]


def test_invoices_not_due_and_unknown_invoice_names_are_paid_in_order() -> None:
    invoices = [inv("A", date(2026, 9, 30), "500.00")]
    result = allocate(invoices, [pay(date(2026, 8, 1), "120.50", invoice="ZZZ")], T)
    assert dict(result.residual) == {"A": D("379.50")}
    assert result.last_payment_date("A") == date(2026, 8, 1)


def test_only_facts_dated_up_to_the_day_count() -> None:
    invoices = [
        inv("old", date(2026, 2, 28), "100.00", issued=date(2026, 1, 31)),
        inv("new", date(2026, 4, 30), "100.00", issued=date(2026, 3, 31)),
    ]
    payments = [pay(date(2026, 3, 1), "40.00"), pay(date(2026, 3, 31), "500.00")]
    result = allocate(invoices, payments, date(2026, 3, 30))
    assert dict(result.residual) == {"old": D("60.00")}
    assert result.unapplied == D(0)
    assert counted_invoices(invoices, date(2026, 3, 30)) == (invoices[0],)


def test_overpayment_is_unapplied() -> None:
    result = allocate([inv("A", date(2026, 1, 31), "99.99")], [pay(date(2026, 2, 1), "100.00")], T)
    assert dict(result.residual) == {"A": D("0.00")}
    assert result.unapplied == D("0.01")


def test_helpers_report_paid_amounts_and_dates() -> None:
    invoices = [inv("A", date(2026, 1, 31), "300.00"), inv("B", date(2026, 2, 28), "300.00")]
    payments = [pay(date(2026, 2, 5), "100.00"), pay(date(2026, 3, 5), "250.00")]
    result = allocate(invoices, payments, T)
    assert result.paid("A") == D("300.00")
    assert result.paid("B") == D("50.00")
    assert result.last_payment_date("A") == date(2026, 3, 5)
    assert result.last_payment_date("B") == date(2026, 3, 5)
    assert result.applied_to("B") == (
        Application(invoice="B", date=date(2026, 3, 5), amount=D("50.00"), payment=1),
    )
    assert allocate(invoices, [], T).last_payment_date("A") is None


def test_payment_targets_put_the_named_invoice_first() -> None:
    invoices = [
        inv("A", date(2026, 3, 31), "1.00"),
        inv("B", date(2026, 1, 31), "1.00"),
        inv("C", date(2026, 2, 28), "1.00"),
    ]
    assert payment_targets(invoices, None) == (1, 2, 0)
    assert payment_targets(invoices, "C") == (2, 1, 0)
    assert payment_targets(invoices, "nope") == (1, 2, 0)


# --- properties --------------------------------------------------------------

START = date(2026, 1, 1)
cents = st.integers(min_value=1, max_value=500_000).map(lambda n: D(n).scaleb(-2))
days = st.integers(min_value=0, max_value=200).map(lambda n: START + timedelta(days=n))


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment]]:
    invoices = [
        Invoice(
            number=str(n),
            date=issued,
            due=issued + timedelta(days=draw(st.integers(0, 60))),
            amount=draw(cents),
        )
        for n, issued in enumerate(draw(st.lists(days, min_size=1, max_size=6)))
    ]
    names = st.sampled_from([None, "missing", *(i.number for i in invoices)])
    payments = draw(
        st.lists(st.builds(Payment, date=days, amount=cents, invoice=names), max_size=8)
    )
    return invoices, payments


@given(books(), days)
def test_allocation_never_creates_or_loses_a_cent(
    book: tuple[list[Invoice], list[Payment]], until: date
) -> None:
    invoices, payments = book
    result = allocate(invoices, payments, until)
    invoiced = sum((i.amount for i in invoices if i.date <= until), D(0))
    paid = sum((p.amount for p in payments if p.date <= until), D(0))
    assert sum(result.residual.values(), D(0)) == invoiced - paid + result.unapplied
    assert sum((a.amount for a in result.applications), D(0)) == paid - result.unapplied


@given(books(), days)
def test_residuals_are_never_negative_nor_above_the_amount(
    book: tuple[list[Invoice], list[Payment]], until: date
) -> None:
    invoices, payments = book
    result = allocate(invoices, payments, until)
    amounts = {i.number: i.amount for i in invoices}
    assert result.unapplied >= 0
    for number, residual in result.residual.items():
        assert D(0) <= residual <= amounts[number]
    # money is left over only when every counted invoice is paid in full
    if result.unapplied > 0:
        assert all(residual == 0 for residual in result.residual.values())
