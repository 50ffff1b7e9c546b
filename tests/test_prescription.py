"""Prescription and the court phase (SPEC 10), worked by hand: each claim kind, what restarts
the term, the warning day itself and the day before, a consumer already prescribed, a consumer
in court across the rate switch (art. 1284 c. 4 c.c.)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from casebook.engine.interest import interest_context, interest_for_case
from casebook.engine.prescription import add_years, claim_terms
from casebook.engine.rules import decide
from casebook.model import (
    Case,
    ClaimKind,
    Court,
    Debtor,
    DebtorKind,
    InterestSettings,
    Invoice,
    LogEntry,
    Payment,
    Policy,
)
from casebook.read.config import read_config

D = Decimal
POLICY: Policy = read_config(None).config.policy


def case(claim: ClaimKind = "ordinary", due: date = date(2016, 3, 31), *,
         log: tuple[LogEntry, ...] = (), payments: tuple[Payment, ...] = (),
         kind: DebtorKind = "business", court: Court | None = None) -> Case:
    invoice = Invoice(number="7", date=due, due=due, amount=D("1000.00"), claim=claim)
    return Case(id="x", path="cases/x.md", debtor=Debtor(name="X", kind=kind, pec="x@pec.it"),
                invoices=(invoice,), log=log, payments=payments, court=court)


def prescribes(c: Case, today: date, policy: Policy = POLICY) -> date | None:
    return claim_terms(c, today, policy.payment_acknowledges)[0].prescribes


@pytest.mark.parametrize(("claim", "expected"), [
    ("ordinary", date(2026, 3, 31)),      # 10 years, art. 2946
    ("periodic", date(2021, 3, 31)),      # 5 years, art. 2948
    ("professional", date(2019, 3, 31)),  # 3 years, art. 2956
])
def test_each_claim_kind_runs_its_years_from_the_due_date(claim: ClaimKind,
                                                          expected: date) -> None:
    assert prescribes(case(claim), date(2016, 4, 1)) == expected


def test_a_term_from_29_february_ends_on_the_28th() -> None:
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)


def pec(day: date, note: str = "", step: str = "formal-notice") -> LogEntry:
    return LogEntry(date=day, channel="pec", step=step, note=note)


def test_a_formal_notice_restarts_the_term_from_its_delivery() -> None:
    delivered = pec(date(2020, 5, 4), "Message-ID: <a@b>\ndelivered 2020-05-06 09:00:00 +0200\n")
    assert prescribes(case(log=(delivered,)), date(2021, 1, 1)) == date(2030, 5, 6)
    by_post = LogEntry(date=date(2020, 5, 4), channel="registered-letter", step="formal-notice")
    assert prescribes(case(log=(by_post,)), date(2021, 1, 1)) == date(2030, 5, 4)


def test_an_undelivered_pec_an_email_and_a_phone_call_restart_nothing() -> None:
    failed = pec(date(2020, 5, 4), "delivery failed 2020-05-04 09:00:00 +0200: no-dest\n")
    email = LogEntry(date=date(2020, 5, 4), channel="email", step="formal-notice")
    call = LogEntry(date=date(2020, 5, 4), channel="phone", step="reminder")
    for entry in (failed, email, call):
        assert prescribes(case(log=(entry,)), date(2021, 1, 1)) == date(2026, 3, 31)


def test_an_acknowledgement_restarts_the_term() -> None:
    written = LogEntry(date=date(2019, 2, 1), channel="letter", step="acknowledgement")
    assert prescribes(case("periodic", log=(written,)), date(2020, 1, 1)) == date(2024, 2, 1)


def test_a_part_payment_restarts_the_term_only_when_the_policy_says_so() -> None:
    paid = case(payments=(Payment(date=date(2018, 6, 1), amount=D("100.00")),))
    assert prescribes(paid, date(2019, 1, 1)) == date(2026, 3, 31)
    acknowledging = dataclasses.replace(POLICY, payment_acknowledges=True)
    assert prescribes(paid, date(2019, 1, 1), acknowledging) == date(2028, 6, 1)


def test_an_act_after_the_claim_prescribed_does_not_bring_it_back() -> None:
    late = LogEntry(date=date(2019, 4, 2), channel="letter", step="acknowledgement")
    assert prescribes(case("professional", log=(late,)), date(2020, 1, 1)) == date(2019, 3, 31)


def test_in_court_the_term_stops_and_the_ladder_too() -> None:
    court = Court(filed=date(2025, 6, 1), kind="decreto-ingiuntivo", number="RG 12/2025")
    c = case(court=court)
    assert prescribes(c, date(2025, 12, 1)) is None
    _, action = decide(c, POLICY, date(2025, 12, 1))
    assert (action.status, action.action, action.due) == ("court", "none", None)
    assert action.reason == ("in court since 2025-06-01 (decreto-ingiuntivo, RG 12/2025): the "
                             "ladder stops; the lawyer has the file")


def test_the_warning_day_itself_and_the_day_before() -> None:
    # prescribes 2026-03-31; 90 days before is 2025-12-31
    c = case()
    _, before = decide(c, POLICY, date(2025, 12, 30))
    assert before.action != "interrupt-prescription"
    _, on_the_day = decide(c, POLICY, date(2025, 12, 31))
    assert (on_the_day.action, on_the_day.due, on_the_day.channel, on_the_day.letter) == (
        "interrupt-prescription", date(2025, 12, 31), "pec", "formal-notice")
    assert on_the_day.reason == (
        "invoice 7 prescribes on 2026-03-31 (10 years from its due date 2016-03-31): interrupt "
        "it with a formal notice that reaches the debtor")


def test_the_warning_comes_before_a_hold() -> None:
    from casebook.model import Hold

    c = dataclasses.replace(case(), hold=Hold(until=date(2026, 6, 1)))
    _, action = decide(c, POLICY, date(2026, 1, 10))
    assert action.action == "interrupt-prescription"


def test_a_consumer_is_never_dunned_for_a_prescribed_claim() -> None:
    c = case("professional", kind="consumer")  # prescribed on 2019-03-31
    s, action = decide(c, POLICY, date(2020, 1, 1))
    assert s.prescribed == frozenset({"7"})
    assert s.dunnable == () and action.letter is None
    assert (action.action, action.reason) == ("none", "invoice 7 prescribed on 2019-03-31: a "
                                              "prescribed debt is never demanded from a consumer")
    business = case("professional")
    s, action = decide(business, POLICY, date(2020, 1, 1))
    assert s.dunnable != () and action.action != "interrupt-prescription"


def test_a_consumer_in_court_moves_to_the_commercial_rate_from_the_filing() -> None:
    # 1,000.00 due 2025-12-31; legal 1.6 % from 1 Jan to 28 Feb 2026, 59 days = 2.59;
    # filed 1 Mar 2026: commercial 10.15 % to 30 Jun, 122 days = 33.93; no EUR 40 (a consumer)
    c = case(due=date(2025, 12, 31), kind="consumer", court=Court(filed=date(2026, 3, 1)))
    result = interest_for_case(c, interest_context(InterestSettings(), date(2026, 6, 30)))
    segments = [(s.first, s.last, s.days, s.rate, s.amount)
                for s in result.invoices[0].segments]
    assert segments == [
        (date(2026, 1, 1), date(2026, 2, 28), 59, D("1.6"), D("2.59")),
        (date(2026, 3, 1), date(2026, 6, 30), 122, D("10.15"), D("33.93")),
    ]
    assert result.interest == D("36.52") and result.compensation == D("0")


def test_validate_warns_of_a_consumer_claim_prescribed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from casebook.cli.main import main

    root = tmp_path / "book"
    (root / "cases").mkdir(parents=True)
    (root / "cases" / "rossi.md").write_text("""---
debtor: {name: Mario Rossi, kind: consumer}
invoices:
  - {number: "7", date: 2019-01-31, due: 2019-01-31, amount: 100.00, claim: professional}
  - {number: "8", date: 2020-06-30, due: 2020-06-30, amount: 100.00, claim: professional}
---
## 2022-02-15 letter acknowledgement — he wrote that he owes both
""")
    result = CliRunner().invoke(main, ["-C", str(root), "--today", "2022-03-01", "validate"])
    assert result.output.splitlines()[0] == (
        "cases/rossi.md:4:5: warning: invoice 7 of this consumer prescribed on 2022-01-31 "
        "(3 years from 2019-01-31): casebook never demands it; close the case, or record what "
        "interrupted prescription (a delivered formal notice, a written acknowledgement)")
    assert "invoice 8" not in result.output  # restarted by the acknowledgement: 2025-02-15
    earlier = CliRunner().invoke(main, ["-C", str(root), "--today", "2022-01-31", "validate"])
    assert "prescribed" not in earlier.output
