"""Late-payment interest, compensation and rate tables (SPEC 6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casebook.engine.allocation import allocate
from casebook.engine.interest import (
    CaseInterest,
    InterestContext,
    Segment,
    case_interest,
    interest_context,
    interest_for_case,
    segments,
    simple_interest,
)
from casebook.engine.law import LAWS, Law, RateTable
from casebook.engine.law.it import ITALY, covered_to, shipped_rates
from casebook.engine.law.tables import carried_forward, merge_rates, rate_on
from casebook.model import (
    DEBTOR_KINDS,
    Case,
    Debtor,
    DebtorKind,
    Imputation,
    InterestSettings,
    Invoice,
    Payment,
    RateRow,
)

D = Decimal


def inv(number: str, due: date, amount: str, issued: date | None = None) -> Invoice:
    return Invoice(number=number, date=issued or due, due=due, amount=D(amount))


def pay(day: date, amount: str, invoice: str | None = None) -> Payment:
    return Payment(date=day, amount=D(amount), invoice=invoice)


def assess(
    invoices: list[Invoice],
    payments: list[Payment],
    until: date,
    kind: DebtorKind = "business",
    imputation: Imputation = "capital-first",
    **options: Any,
) -> CaseInterest:
    context = interest_context(InterestSettings(imputation=imputation, **options), until)
    return case_interest(invoices, payments, kind, context)


def seg(first: date, last: date, days: int, capital: str, rate: str, amount: str) -> Segment:
    return Segment(
        first=first, last=last, days=days, capital=D(capital), rate=D(rate), amount=D(amount)
    )


# --- the worked examples of SPEC 6 ------------------------------------------------


def test_worked_example_unpaid_across_two_semesters() -> None:
    result = assess([inv("1", date(2025, 3, 31), "1220.00")], [], date(2025, 9, 30))
    invoice = result.invoice("1")
    assert invoice.segments == (
        seg(date(2025, 4, 1), date(2025, 6, 30), 91, "1220.00", "11.15", "33.91"),
        seg(date(2025, 7, 1), date(2025, 9, 30), 92, "1220.00", "10.15", "31.21"),
    )
    assert result.interest == D("65.12")
    assert result.compensation == D("40.00")
    assert result.claim == D("1325.12")
    assert result.interest_to == date(2025, 9, 30)


def test_worked_example_2013() -> None:
    result = assess([inv("1", date(2013, 1, 1), "10000.00")], [], date(2013, 12, 31))
    assert [(s.days, s.rate, s.amount) for s in result.invoice("1").segments] == [
        (180, D("8.75"), D("431.51")),
        (184, D("8.50"), D("428.49")),
    ]
    assert result.interest == D("860.00")


EXAMPLE_3 = ([inv("1", date(2025, 1, 31), "1220.00")], [pay(date(2025, 4, 30), "500.00")])


def test_worked_example_partial_payment_capital_first() -> None:
    result = assess(*EXAMPLE_3, date(2025, 7, 31))
    invoice = result.invoice("1")
    assert invoice.segments == (
        seg(date(2025, 2, 1), date(2025, 4, 30), 89, "1220.00", "11.15", "33.17"),
        seg(date(2025, 5, 1), date(2025, 6, 30), 61, "720.00", "11.15", "13.42"),
        seg(date(2025, 7, 1), date(2025, 7, 31), 31, "720.00", "10.15", "6.21"),
    )
    assert invoice.capital == D("720.00")
    assert invoice.interest_paid == D(0)
    assert result.interest == D("52.80")
    assert result.claim == D("812.80")


def test_worked_example_partial_payment_interest_first() -> None:
    result = assess(*EXAMPLE_3, date(2025, 7, 31), imputation="interest-first")
    invoice = result.invoice("1")
    assert [(s.days, s.capital, s.amount) for s in invoice.segments] == [
        (89, D("1220.00"), D("33.17")),
        (61, D("753.17"), D("14.03")),
        (31, D("753.17"), D("6.49")),
    ]
    assert (invoice.imputed[0].interest, invoice.imputed[0].capital) == (D("33.17"), D("466.83"))
    assert invoice.capital == D("753.17")
    assert invoice.accrued == D("53.69")
    assert invoice.unpaid == D("20.52")
    assert result.interest == D("20.52")
    assert result.claim == D("813.69")


# --- day counts and rate changes ---------------------------------------------------


def test_leap_year_still_divides_by_365() -> None:
    result = assess([inv("1", date(2024, 1, 31), "10000.00")], [], date(2024, 3, 31))
    (segment,) = result.invoice("1").segments
    assert (segment.days, segment.rate, segment.amount) == (60, D("12.50"), D("205.48"))


def test_consumer_legal_rate_changes_on_the_first_of_january() -> None:
    result = assess([inv("1", date(2024, 12, 15), "1000.00")], [], date(2025, 1, 31), "consumer")
    assert result.invoice("1").segments == (
        seg(date(2024, 12, 16), date(2024, 12, 31), 16, "1000.00", "2.5", "1.10"),
        seg(date(2025, 1, 1), date(2025, 1, 31), 31, "1000.00", "2.0", "1.70"),
    )
    assert result.interest == D("2.80")
    assert result.compensation == D(0)
    assert result.claim == D("1002.80")


def test_partial_payment_in_mid_semester_splits_the_segment() -> None:
    result = assess(
        [inv("1", date(2024, 1, 31), "5000.00")],
        [pay(date(2024, 3, 15), "2000.00", invoice="1")],
        date(2024, 5, 31),
    )
    assert result.invoice("1").segments == (
        seg(date(2024, 2, 1), date(2024, 3, 15), 44, "5000.00", "12.50", "75.34"),
        seg(date(2024, 3, 16), date(2024, 5, 31), 77, "3000.00", "12.50", "79.11"),
    )
    assert result.interest == D("154.45")
    assert result.claim == D("3194.45")


def test_segment_amounts_round_half_up() -> None:
    assert simple_interest(D("18.25"), D("10"), 1) == D("0.01")  # exactly 0.005
    assert simple_interest(D("18.24"), D("10"), 1) == D("0.00")


def test_segments_skip_days_without_capital_or_rate() -> None:
    rows = (RateRow(start=date(2025, 1, 1), rate=D("10")),)
    capital = [(date(2024, 1, 1), D("100")), (date(2025, 1, 11), D(0))]
    assert segments(date(2024, 12, 1), date(2025, 1, 31), capital, rows) == (
        seg(date(2025, 1, 1), date(2025, 1, 10), 10, "100", "10", "0.27"),
    )


# --- imputation -----------------------------------------------------------------


TWO_INVOICES = [inv("A", date(2025, 1, 31), "1000.00"), inv("B", date(2025, 2, 28), "1000.00")]


def test_interest_first_pays_each_invoice_interest_then_capital_in_order() -> None:
    result = assess(
        TWO_INVOICES,
        [pay(date(2025, 4, 30), "1500.00")],
        date(2025, 4, 30),
        "business",
        "interest-first",
    )
    a, b = result.invoice("A"), result.invoice("B")
    assert (a.accrued, a.interest_paid, a.capital) == (D("27.19"), D("27.19"), D("0.00"))
    assert (b.accrued, b.interest_paid, b.capital) == (D("18.63"), D("18.63"), D("545.82"))
    assert result.interest == D("0.00")
    assert result.compensation == D("80.00")
    assert result.claim == D("625.82")


def test_capital_first_keeps_the_allocation_and_leaves_interest_unpaid() -> None:
    result = assess(TWO_INVOICES, [pay(date(2025, 4, 30), "1500.00")], date(2025, 4, 30))
    assert (result.invoice("A").capital, result.invoice("B").capital) == (D("0.00"), D("500.00"))
    assert result.interest == D("45.82")
    assert result.claim == D("625.82")  # 500.00 + 45.82 + 2 × 40.00


def test_capital_first_overpayment_goes_to_unpaid_interest() -> None:
    result = assess(TWO_INVOICES, [pay(date(2025, 4, 30), "2050.00")], date(2025, 4, 30))
    assert result.interest_paid == D("45.82")
    assert result.interest == D("0.00")
    assert result.unapplied == D("4.18")
    assert result.claim == D("80.00")


def test_interest_first_payment_below_the_interest_leaves_capital_whole() -> None:
    result = assess(
        *EXAMPLE_3[:1],
        [pay(date(2025, 4, 30), "20.00")],
        date(2025, 7, 31),
        imputation="interest-first",
    )
    invoice = result.invoice("1")
    # no capital change, so no split at the payment: 150 days at 11.15 %, 31 at 10.15 %
    assert [(s.days, s.amount) for s in invoice.segments] == [(150, D("55.90")), (31, D("10.52"))]
    assert (invoice.interest_paid, invoice.capital, invoice.unpaid) == (
        D("20.00"),
        D("1220.00"),
        D("46.42"),
    )


# --- compensation -----------------------------------------------------------------


def test_compensation_when_paid_late_but_not_when_paid_on_time() -> None:
    invoices = [inv("late", date(2025, 1, 31), "100.00"), inv("ok", date(2025, 2, 28), "100.00")]
    payments = [pay(date(2025, 2, 10), "100.00", "late"), pay(date(2025, 2, 28), "100.00", "ok")]
    result = assess(invoices, payments, date(2025, 6, 30))
    late, ok = result.invoice("late"), result.invoice("ok")
    assert (late.overdue, late.last_payment, late.compensation) == (
        False,
        date(2025, 2, 10),
        D("40.00"),
    )
    assert late.accrued == D("0.31")  # 10 days at 11.15 % on 100.00
    assert (ok.compensation, ok.accrued) == (D(0), D(0))
    assert result.claim == D("40.31")


def test_no_compensation_for_an_invoice_not_yet_due() -> None:
    result = assess([inv("1", date(2025, 6, 30), "100.00")], [], date(2025, 6, 30))
    assert (result.compensation, result.interest, result.claim) == (D(0), D(0), D(0))
    assert result.invoice("1").overdue is False


def test_consumers_get_no_compensation() -> None:
    result = assess([inv("1", date(2025, 1, 31), "100.00")], [], date(2025, 3, 2), "consumer")
    assert (result.method, result.compensation, result.interest) == ("legal", D(0), D("0.16"))


def test_method_none_means_no_interest_and_no_compensation() -> None:
    result = assess(
        [inv("1", date(2025, 1, 31), "100.00")], [], date(2025, 12, 31), business="none"
    )
    assert result.invoice("1").segments == ()
    assert (result.interest, result.compensation, result.claim) == (D(0), D(0), D("100.00"))


def test_public_debtors_use_the_commercial_method() -> None:
    result = assess([inv("1", date(2025, 3, 31), "1220.00")], [], date(2025, 9, 30), "public")
    assert (result.interest, result.compensation) == (D("65.12"), D("40.00"))


# --- rate tables --------------------------------------------------------------------


def test_shipped_tables() -> None:
    commercial, legal = shipped_rates()
    assert (len(commercial), len(legal)) == (27, 14)
    assert (commercial[0].start, str(commercial[0].rate)) == (date(2013, 1, 1), "8.75")
    assert (commercial[-1].start, str(commercial[-1].rate)) == (date(2026, 1, 1), "10.15")
    assert str(rate_on(commercial, date(2013, 9, 1))) == "8.50"  # text kept, never a float
    assert (legal[0].start, legal[0].rate) == (date(2012, 1, 1), D("2.5"))
    assert rate_on(legal, date(2020, 5, 5)) == D("0.05")
    assert (legal[-1].start, legal[-1].rate) == (date(2026, 1, 1), D("1.6"))
    assert all(row.source for row in (*commercial, *legal))
    assert "GU n. 15 of 20/01/2026" in commercial[-1].source


def test_unverified_2026_h2_row_is_not_shipped() -> None:
    commercial, _ = shipped_rates()
    assert date(2026, 7, 1) not in {row.start for row in commercial}
    assert covered_to(commercial, "commercial") == date(2026, 6, 30)


def test_coverage_ends_with_the_semester_or_the_year() -> None:
    h2 = (RateRow(start=date(2026, 7, 1), rate=D(1)),)
    assert covered_to(h2, "commercial") == date(2026, 12, 31)
    assert covered_to((RateRow(start=date(2026, 3, 15), rate=D(1)),), "commercial") == date(
        2026, 6, 30
    )
    assert covered_to(h2, "legal") == date(2026, 12, 31)


def test_missing_period_stops_interest_and_says_how_to_add_a_row() -> None:
    context = interest_context(InterestSettings(), date(2026, 9, 30))
    assert context.interest_to_for("commercial") == date(2026, 6, 30)
    assert context.warning == (
        "no commercial rate is known from 2026-07-01: commercial interest is computed to "
        "2026-06-30; add a row `{from: 2026-07-01, rate: …, source: …}` under interest: "
        "commercial_rates: in casebook.yml with the rate of the MEF communiqué in the Gazzetta "
        "Ufficiale (the ECB main refinancing rate on 1 January / 1 July, + 8 points)"
    )
    result = case_interest([inv("1", date(2026, 5, 31), "1000.00")], [], "business", context)
    (segment,) = result.invoice("1").segments
    assert (segment.last, segment.days, segment.amount) == (date(2026, 6, 30), 30, D("8.34"))
    assert result.interest_to == date(2026, 6, 30)
    # a consumer's interest runs on to T: the legal table has its own end
    consumer = case_interest([inv("2", date(2026, 5, 31), "1000.00")], [], "consumer", context)
    assert consumer.invoice("2").segments[-1].last == date(2026, 9, 30)
    assert consumer.interest_to == date(2026, 9, 30)


def test_a_missing_commercial_period_and_a_provisional_legal_year_give_one_warning() -> None:
    context = interest_context(InterestSettings(), date(2027, 2, 1))
    assert context.interest_to_for("commercial") == date(2026, 6, 30)
    assert context.interest_to_for("legal") == date(2027, 2, 1)
    assert [(gap.method, gap.first) for gap in context.gaps] == [("commercial", date(2026, 7, 1))]
    assert [item.year for item in context.provisional] == [2027]
    assert context.warning is not None
    assert context.warning.startswith("no commercial rate is known from 2026-07-01")
    assert "; the legal rate for 2027 is not in the tables yet" in context.warning


def test_only_tables_in_use_are_warned_about() -> None:
    only_legal = InterestSettings(business="legal", public="none")
    context = interest_context(only_legal, date(2026, 9, 30))
    assert (context.interest_to_for("legal"), context.gaps, context.warning) == (
        date(2026, 9, 30), (), None)
    only_commercial = InterestSettings(consumer="commercial")
    context = interest_context(only_commercial, date(2027, 2, 1))
    assert (context.provisional, len(context.gaps)) == ((), 1)


def test_days_before_the_first_row_have_no_rate_and_are_reported() -> None:
    result = assess([inv("X", date(2011, 6, 30), "1000.00")], [], date(2012, 3, 31), "consumer")
    invoice = result.invoice("X")
    assert invoice.segments == (
        seg(date(2012, 1, 1), date(2012, 3, 31), 91, "1000.00", "2.5", "6.23"),
    )
    assert invoice.gap is not None
    assert (invoice.gap.first, invoice.gap.last) == (date(2011, 7, 1), date(2011, 12, 31))
    assert invoice.gap.message == (
        "no legal rate is known from 2011-07-01 to 2011-12-31: invoice X bears no interest for "
        "those days; add a row `{from: 2011-01-01, rate: …, source: …}` under interest: "
        "legal_rates: in casebook.yml with the rate of the decree of the Ministry of Economy and "
        "Finance (MEF) in the Gazzetta Ufficiale (published by 15 December; without one the rate "
        "stays unchanged, art. 1284 c.c.)"
    )
    assert result.gaps == (invoice.gap,)


def test_merge_replaces_rows_with_the_same_start_and_adds_the_others() -> None:
    shipped = (
        RateRow(start=date(2025, 1, 1), rate=D("1")),
        RateRow(start=date(2025, 7, 1), rate=D("2")),
    )
    extra = (
        RateRow(start=date(2026, 1, 1), rate=D("4")),
        RateRow(start=date(2025, 7, 1), rate=D("3")),
    )
    assert [(r.start.month, r.start.year, r.rate) for r in merge_rates(shipped, extra)] == [
        (1, 2025, D("1")),
        (7, 2025, D("3")),
        (1, 2026, D("4")),
    ]


def test_casebook_rows_replace_and_extend_the_shipped_tables() -> None:
    rows = (
        RateRow(start=date(2025, 7, 1), rate=D("9.00"), source="test"),
        RateRow(start=date(2026, 7, 1), rate=D("10.40"), source="test"),
    )
    result = assess(
        [inv("1", date(2025, 3, 31), "1220.00")], [], date(2026, 9, 30), commercial_rates=rows
    )
    assert result.interest_to == date(2026, 9, 30)
    assert [(s.rate, s.days, s.amount) for s in result.invoice("1").segments] == [
        (D("11.15"), 91, D("33.91")),
        (D("9.00"), 184, D("55.35")),
        (D("10.15"), 181, D("61.41")),
        (D("10.40"), 92, D("31.98")),
    ]
    assert result.interest == D("182.65")


def test_context_can_take_other_tables() -> None:
    tables = (
        (RateRow(start=date(2025, 1, 1), rate=D("10")),),
        (RateRow(start=date(2025, 1, 1), rate=D("1")),),
    )
    context = interest_context(InterestSettings(), date(2025, 12, 31), shipped=tables)
    assert isinstance(context, InterestContext)
    assert context.interest_to_for("commercial") == date(2025, 6, 30)
    assert context.interest_to_for("legal") == date(2025, 12, 31)
    with pytest.raises(ValueError, match="empty rate table"):
        interest_context(InterestSettings(), date(2025, 12, 31), shipped=((), ()))


# --- facts after T, whole cases -----------------------------------------------------------


def test_facts_after_the_day_are_ignored() -> None:
    invoices = [inv("1", date(2025, 1, 31), "100.00"), inv("2", date(2025, 9, 30), "100.00")]
    payments = [pay(date(2025, 3, 2), "100.00")]
    result = assess(invoices, payments, date(2025, 3, 1))
    assert [item.number for item in result.invoices] == ["1"]
    assert (result.invoice("1").capital, result.interest) == (D("100.00"), D("0.89"))


def test_payment_after_interest_to_reduces_capital_but_not_interest() -> None:
    result = assess(
        [inv("1", date(2026, 5, 31), "1000.00")],
        [pay(date(2026, 8, 1), "1000.00")],
        date(2026, 9, 30),
    )
    invoice = result.invoice("1")
    assert (invoice.capital, invoice.accrued, invoice.compensation) == (
        D("0.00"),
        D("8.34"),
        D("40.00"),
    )
    assert result.claim == D("48.34")


def test_interest_for_case_reads_the_debtor_kind() -> None:
    case = Case(
        id="rossi",
        path="cases/rossi.md",
        debtor=Debtor(name="Rossi", kind="consumer"),
        invoices=(inv("1", date(2024, 12, 15), "1000.00"),),
    )
    context = interest_context(InterestSettings(), date(2025, 1, 31))
    assert interest_for_case(case, context).interest == D("2.80")


# --- properties ------------------------------------------------------------------------

START = date(2024, 1, 1)
cents = st.integers(min_value=1, max_value=500_000).map(lambda n: D(n).scaleb(-2))
days = st.integers(min_value=0, max_value=700).map(lambda n: START + timedelta(days=n))


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment]]:
    invoices = [
        Invoice(
            number=str(n),
            date=issued,
            due=issued + timedelta(days=draw(st.integers(0, 60))),
            amount=draw(cents),
        )
        for n, issued in enumerate(draw(st.lists(days, min_size=1, max_size=4)))
    ]
    names = st.sampled_from([None, *(i.number for i in invoices)])
    payments = draw(
        st.lists(st.builds(Payment, date=days, amount=cents, invoice=names), max_size=5)
    )
    return invoices, payments


@settings(max_examples=60, deadline=None)
@given(books(), st.sampled_from(["capital-first", "interest-first"]))
def test_imputation_accounts_for_every_cent(
    book: tuple[list[Invoice], list[Payment]], imputation: Imputation
) -> None:
    invoices, payments = book
    until = date(2025, 12, 31)
    result = assess(invoices, payments, until, imputation=imputation)
    invoiced = sum((i.amount for i in invoices), D(0))
    paid = sum((p.amount for p in payments), D(0))
    capital = sum((item.capital for item in result.invoices), D(0))
    assert capital + paid == invoiced + result.interest_paid + result.unapplied
    for item in result.invoices:
        assert D(0) <= item.unpaid <= item.accrued
        assert D(0) <= item.capital <= item.amount
    if imputation == "capital-first":
        residual = allocate(invoices, payments, until).residual
        assert {item.number: item.capital for item in result.invoices} == dict(residual)


# --- each table has its own end (SPEC 6) --------------------------------------------------


def test_consumer_interest_runs_past_the_end_of_the_commercial_table() -> None:
    context = interest_context(InterestSettings(), date(2026, 11, 22))
    result = case_interest([inv("1", date(2026, 8, 31), "1000.00")], [], "consumer", context)
    # Sep 1 – Nov 22 is 83 days: 1000 × 1.6 × 83 / 36500 = 3.638… → 3.64
    assert (result.interest, result.interest_to) == (D("3.64"), date(2026, 11, 22))
    assert result.invoice("1").segments == (
        seg(date(2026, 9, 1), date(2026, 11, 22), 83, "1000.00", "1.6", "3.64"),
    )
    assert context.interest_to_for("commercial") == date(2026, 6, 30)
    assert context.interest_to_for("legal") == date(2026, 11, 22)
    business = case_interest([inv("2", date(2026, 5, 31), "1000.00")], [], "business", context)
    assert business.interest_to == date(2026, 6, 30)


def test_a_short_legal_table_does_not_stop_commercial_interest() -> None:
    tables = (
        (RateRow(start=date(2025, 1, 1), rate=D("10")),
         RateRow(start=date(2025, 7, 1), rate=D("9"))),
        (RateRow(start=date(2024, 1, 1), rate=D("1")),),
    )
    context = interest_context(InterestSettings(), date(2025, 12, 31), shipped=tables)
    result = case_interest([inv("1", date(2025, 9, 30), "1000.00")], [], "business", context)
    # Oct 1 – Dec 31 is 92 days: 1000 × 9 × 92 / 36500 = 22.68…
    assert [(s.days, s.amount) for s in result.invoice("1").segments] == [(92, D("22.68"))]
    assert result.interest_to == date(2025, 12, 31)


# --- the legal rate of a year with no row yet (art. 1284 c.c.) ---------------------------


def test_a_new_year_without_a_legal_row_carries_the_last_rate_provisionally() -> None:
    context = interest_context(InterestSettings(), date(2027, 1, 31))
    result = case_interest([inv("1", date(2026, 12, 1), "1000.00")], [], "consumer", context)
    # Dec 2–31: 1000 × 1.6 × 30 / 36500 = 1.315… → 1.32; Jan 1–31: × 31 → 1.358… → 1.36
    assert result.invoice("1").segments == (
        seg(date(2026, 12, 2), date(2026, 12, 31), 30, "1000.00", "1.6", "1.32"),
        Segment(first=date(2027, 1, 1), last=date(2027, 1, 31), days=31, capital=D("1000.00"),
                rate=D("1.6"), amount=D("1.36"), provisional=True),
    )
    assert (result.interest, result.interest_to) == (D("2.68"), date(2027, 1, 31))
    assert result.provisional and result.invoice("1").provisional
    assert context.warning is not None
    assert (
        "the legal rate for 2027 is not in the tables yet: the 2026 rate (1.60 %) is used, "
        "provisional; add a row `{from: 2027-01-01, rate: …, source: …}` under interest: "
        "legal_rates: in casebook.yml with the rate of the decree of the Ministry of Economy and "
        "Finance (MEF) in the Gazzetta Ufficiale (published by 15 December; without one the rate "
        "stays unchanged, art. 1284 c.c.)"
    ) in context.warning


def test_each_missing_legal_year_is_its_own_provisional_segment() -> None:
    context = interest_context(InterestSettings(), date(2028, 1, 31))
    result = case_interest([inv("1", date(2026, 12, 31), "1000.00")], [], "consumer", context)
    # 2027: 1000 × 1.6 × 365 / 36500 = 16.00; 2028 Jan 1–31: × 31 → 1.36
    assert [(s.first, s.days, s.amount, s.provisional) for s in result.invoice("1").segments] == [
        (date(2027, 1, 1), 365, D("16.00"), True),
        (date(2028, 1, 1), 31, D("1.36"), True),
    ]
    assert result.interest == D("17.36")
    assert context.warning is not None
    assert "the legal rate for 2027 is not in the tables yet" in context.warning
    assert "the legal rate for 2028 is not in the tables yet" in context.warning


def test_confirmed_years_are_not_provisional_and_warn_nothing() -> None:
    context = interest_context(InterestSettings(consumer="legal", business="legal",
                                                public="legal"), date(2026, 12, 31))
    result = case_interest([inv("1", date(2025, 12, 15), "1000.00")], [], "consumer", context)
    assert not result.provisional
    assert not any(s.provisional for s in result.invoice("1").segments)
    assert context.warning is None


def test_a_legal_row_in_casebook_yml_ends_the_provisional_rate() -> None:
    row = RateRow(start=date(2027, 1, 1), rate=D("1.2"), source="test")
    result = assess([inv("1", date(2026, 12, 1), "1000.00")], [], date(2027, 1, 31), "consumer",
                    legal_rates=(row,))
    # Jan 1–31 at 1.2: 1000 × 1.2 × 31 / 36500 = 1.019… → 1.02
    assert [(s.rate, s.amount, s.provisional) for s in result.invoice("1").segments] == [
        (D("1.6"), D("1.32"), False),
        (D("1.2"), D("1.02"), False),
    ]
    assert not result.provisional


def test_the_commercial_table_is_not_carried_forward() -> None:
    context = interest_context(InterestSettings(), date(2027, 1, 31))
    result = case_interest([inv("1", date(2026, 5, 31), "1000.00")], [], "business", context)
    assert result.interest_to == date(2026, 6, 30)
    assert [s.last for s in result.invoice("1").segments] == [date(2026, 6, 30)]
    assert not result.provisional


# --- the law is a seam: a second country is one Law and one registry entry ----------------

FLAT = RateTable(method="commercial", months=12, carried=False, published="the Flatland Gazette")


def flat_rows() -> tuple[tuple[RateRow, ...], ...]:
    return ((RateRow(start=date(2025, 1, 1), rate=D("5"), source="Flatland Gazette 1/2025"),),)


def no_compensation(kind: DebtorKind, method: str) -> Decimal:
    return D(0)


FLATLAND = Law(
    code="xx",
    name="Flatland: a flat 5 % a year, no compensation",
    methods=tuple((kind, "commercial") for kind in DEBTOR_KINDS),
    tables=(FLAT,),
    compensation=no_compensation,
    shipped=flat_rows,
)


def consumer_case(*payments: Payment) -> Case:
    return Case(id="rossi", path="cases/rossi.md", debtor=Debtor(name="Rossi", kind="consumer"),
                invoices=(inv("1", date(2025, 3, 31), "1000.00"),), payments=payments)


def test_a_case_under_a_second_law_registered_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(LAWS, "xx", FLATLAND)
    context = interest_context(InterestSettings(law="xx"), date(2025, 12, 31))
    result = interest_for_case(consumer_case(pay(date(2025, 6, 30), "200.00")), context)
    # Apr 1 – Jun 30: 1000 × 5 × 91 / 36500 = 12.465… → 12.47;
    # Jul 1 – Dec 31 on 800: 800 × 5 × 184 / 36500 = 20.164… → 20.16; paid late, yet no EUR 40
    assert result.invoice("1").segments == (
        seg(date(2025, 4, 1), date(2025, 6, 30), 91, "1000.00", "5", "12.47"),
        seg(date(2025, 7, 1), date(2025, 12, 31), 184, "800.00", "5", "20.16"),
    )
    assert (result.method, result.interest, result.compensation) == ("commercial", D("32.63"), 0)
    assert (result.claim, context.warning) == (D("832.63"), None)
    italian = interest_for_case(consumer_case(), interest_context(InterestSettings(),
                                                                  date(2025, 12, 31)))
    assert (italian.method, italian.compensation) == ("legal", D(0))


def test_a_second_law_warns_with_its_own_source_and_refuses_a_method_it_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(LAWS, "xx", FLATLAND)
    context = interest_context(InterestSettings(law="xx"), date(2026, 3, 31))
    assert context.interest_to_for("commercial") == date(2025, 12, 31)
    assert context.warning == (
        "no commercial rate is known from 2026-01-01: commercial interest is computed to "
        "2025-12-31; add a row `{from: 2026-01-01, rate: …, source: …}` under interest: "
        "commercial_rates: in casebook.yml with the rate of the Flatland Gazette"
    )
    with pytest.raises(ValueError, match="no rate table under the law of 'xx'"):
        interest_context(InterestSettings(law="xx", consumer="legal"), date(2026, 3, 31))
    with pytest.raises(KeyError, match="no law 'yy'; known: it, xx"):
        interest_context(InterestSettings(law="yy"), date(2026, 3, 31))


def test_italy_is_the_default_law_and_gives_each_debtor_kind_a_method() -> None:
    context = interest_context(InterestSettings(), date(2025, 12, 31))
    assert context.law is ITALY is LAWS[InterestSettings().law]
    assert {kind: context.method_for(kind) for kind in DEBTOR_KINDS} == {
        "business": "commercial", "consumer": "legal", "public": "commercial"}
    assert {kind: ITALY.compensation(kind, "commercial") for kind in DEBTOR_KINDS} == dict.fromkeys(
        DEBTOR_KINDS, D("40.00"))
    assert ITALY.compensation("business", "legal") == ITALY.compensation("public", "none") == 0


def test_casebook_yml_overrides_the_laws_method_for_the_kinds_it_names() -> None:
    from casebook.read.config import read_config

    settings = read_config(b"interest: {consumer: commercial}\n").config.interest
    assert [settings.chosen(kind) for kind in DEBTOR_KINDS] == [None, "commercial", None]
    context = interest_context(settings, date(2025, 12, 31))
    assert [context.method_for(kind) for kind in DEBTOR_KINDS] == ["commercial"] * 3
    assert read_config(None).config.interest == InterestSettings()


@pytest.mark.parametrize("law", sorted(LAWS))
def test_every_law_gives_every_debtor_kind_a_method_it_has_a_table_for(law: str) -> None:
    methods = dict(LAWS[law].methods)
    assert set(methods) == set(DEBTOR_KINDS)
    assert all(LAWS[law].offers(method) for method in methods.values())
    assert len(LAWS[law].shipped()) == len(LAWS[law].tables)


def test_a_rate_table_reads_any_period_that_divides_the_year() -> None:
    quarter = RateTable(method="legal", months=3, carried=True, published="x")
    assert quarter.period_start(date(2025, 8, 15)) == date(2025, 7, 1)
    assert quarter.next_period(date(2025, 11, 30)) == date(2026, 1, 1)
    rows = (RateRow(start=date(2025, 4, 1), rate=D("2")),)
    assert quarter.covered_to(rows) == date(2025, 6, 30)
    (carried,) = carried_forward(quarter, rows, date(2025, 9, 30))
    assert (carried.row.start, carried.row.provisional) == (date(2025, 7, 1), True)
    assert carried.message.startswith("the legal rate for 2025-07 is not in the tables yet: "
                                      "the 2025-04 rate (2.00 %) is used, provisional; ")
    with pytest.raises(ValueError, match="must divide the year"):
        RateTable(method="legal", months=5, carried=False, published="x")
