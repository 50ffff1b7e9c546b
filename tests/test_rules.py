"""The next action (SPEC 5): one table per rule, every edge of it, then replays and properties.

Every row is a small case file written inline, the day T, the expected (status, action, due), the
rule that decides and, where the reason must name facts, a fragment of it. Every expected date is
worked out by hand from the SPEC and the default policy of SPEC 3 (reminder +1, written-reminder
+20, final-notice +30, formal-notice +45, legal +90 wait 15; min_gap 7, promise_grace 3,
stalling 2, plan_fallback = stalling_step = direct_contact_before = formal-notice).

A calendar for invoice A (due 2026-01-31; 2026 is not a leap year):
d0+1 = 02-01, +20 = 02-20, +30 = 03-02, +45 = 03-17, +90 = 05-01.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebook.diagnostics import Severity
from casebook.engine.rules import Action
from casebook.load.assess import Assessment, assess_case
from casebook.model import Case, Config
from casebook.read.casefile import read_case
from casebook.read.config import read_config

DEFAULT = read_config(None).config


def config_of(text: str | None) -> Config:
    if text is None:
        return DEFAULT
    loaded = read_config(text.encode())
    assert loaded.diagnostics == (), [d.format() for d in loaded.diagnostics]
    return loaded.config


NO_PEC = "{name: Rossi S.r.l.}"
WITH_PEC = "{name: Rossi S.r.l., pec: rossi@pec.example.it}"


def case_text(front: str, log: str = "", debtor: str = NO_PEC) -> str:
    """A case file: the debtor, the given front matter, then the contact log."""
    return f"---\ndebtor: {debtor}\n" + front.strip("\n") + "\n---\n" + log


def log(*headings: str) -> str:
    """A contact log: one `## DATE CHANNEL [STEP] [— title]` entry per heading."""
    return "".join(f"## {h}\nNote.\n\n" for h in headings)


def parse(text: str, config: Config = DEFAULT) -> Case:
    parsed = read_case("rossi", "cases/rossi.md", text.encode(), config)
    errors = [d.format() for d in parsed.diagnostics if d.severity is Severity.ERROR]
    assert parsed.case is not None and errors == [], errors
    return parsed.case


def assess(text: str, today: str, config: Config = DEFAULT) -> Assessment:
    return assess_case(parse(text, config), config, date.fromisoformat(today))


def triple(action: Action) -> tuple[str, str, str | None]:
    return action.status, action.action, action.due.isoformat() if action.due else None


# The invoice most rows use: 1,000.00 issued 2026-01-01, due 2026-01-31.
A = "invoices: [{number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}]\n"
# A and B, both due 2026-01-31, A first in the file.
AB = """invoices:
  - {number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}
  - {number: B, date: 2026-01-01, due: 2026-01-31, amount: 500.00}
"""


@dataclass(frozen=True)
class Row:
    id: str
    front: str
    log: str
    today: str
    expect: tuple[str, str, str | None]
    rule: int
    reason: str | None = None  # a fragment the reason must contain
    channel: str | None = None  # when given, also the action's channel
    config: str | None = None  # casebook.yml, when not the defaults
    debtor: str = NO_PEC  # the debtor's mapping: by default without a PEC address


def check(row: Row) -> Action:
    text = case_text(row.front, row.log, row.debtor)
    action = assess(text, row.today, config_of(row.config)).action
    assert (triple(action), action.rule) == (row.expect, row.rule), action.reason
    if row.reason is not None:
        assert row.reason in action.reason
    if row.channel is not None:
        assert action.channel == row.channel
    return action


def table(rows: list[Row]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("row", rows, ids=[r.id for r in rows])


# -- rule 1: closed --------------------------------------------------------------------------

RULE_1 = [
    Row("closed-on-T", A + "closed: {date: 2026-03-01, reason: written off}", "", "2026-03-01",
        ("closed", "none", None), 1, "case closed on 2026-03-01: written off"),
    Row("closed-before-T", A + "closed: {date: 2026-02-10}", "", "2026-03-01",
        ("closed", "none", None), 1, "case closed on 2026-02-10"),
    Row("closing-after-T-ignored", A + "closed: {date: 2026-03-10}", "", "2026-03-01",
        ("overdue", "reminder", "2026-02-01"), 7),
    Row("closed-beats-hold-and-dispute",
        A + "closed: {date: 2026-02-10}\nhold: {until: 2026-04-01}\n"
            "disputes: [{opened: 2026-02-05}]", "", "2026-03-01",
        ("closed", "none", None), 1),
]


@table(RULE_1)
def test_rule_1_closed(row: Row) -> None:
    action = check(row)
    if row.expect[0] == "closed":
        assert (action.channel, action.letter) == (None, None)


# -- rule 2: settled -------------------------------------------------------------------------

RULE_2 = [
    Row("settled-due-last-payment",
        A + "payments: [{date: 2026-02-15, amount: 400.00}, {date: 2026-02-10, amount: 600.00}]",
        "", "2026-03-01", ("settled", "close", "2026-02-15"), 2,
        "the invoice (1,000.00) is paid, the last payment on 2026-02-15"),
    Row("payment-after-T-ignored",
        A + "payments: [{date: 2026-02-10, amount: 600.00}, {date: 2026-02-15, amount: 400.00}]",
        "", "2026-02-12", ("overdue", "reminder", "2026-02-01"), 7,
        "400.00 overdue since 2026-01-31"),
    Row("overpaid-is-settled",
        A + "payments: [{date: 2026-02-03, amount: 1200.00}]", "", "2026-02-20",
        ("settled", "close", "2026-02-03"), 2),
    Row("invoice-issued-after-T-ignored",
        "invoices:\n"
        "  - {number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}\n"
        "  - {number: B, date: 2026-03-05, due: 2026-04-04, amount: 500.00}\n"
        "payments: [{date: 2026-02-10, amount: 1000.00, invoice: A}]",
        "", "2026-03-04", ("settled", "close", "2026-02-10"), 2),
    Row("invoice-issued-on-T-counts",
        "invoices:\n"
        "  - {number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}\n"
        "  - {number: B, date: 2026-03-05, due: 2026-04-04, amount: 500.00}\n"
        "payments: [{date: 2026-02-10, amount: 1000.00, invoice: A}]",
        "", "2026-03-05", ("current", "none", None), 8,
        "next due: invoice B (500.00) on 2026-04-04"),
    Row("settled-beats-hold",
        A + "payments: [{date: 2026-02-10, amount: 1000.00}]\nhold: {until: 2026-04-01}",
        "", "2026-03-01", ("settled", "close", "2026-02-10"), 2),
    Row("no-invoices-is-not-settled", "owner: luca", "", "2026-03-01",
        ("current", "none", None), 8, "no invoices yet"),
]


@table(RULE_2)
def test_rule_2_settled(row: Row) -> None:
    check(row)


# -- rule 3: on hold -------------------------------------------------------------------------

RULE_3 = [
    Row("hold-until-after-T", A + "hold: {until: 2026-03-10, reason: owner asked to wait}",
        "", "2026-03-01", ("on-hold", "resume", "2026-03-10"), 3,
        "on hold until 2026-03-10 (owner asked to wait)"),
    Row("hold-until-T", A + "hold: {until: 2026-03-01}", "", "2026-03-01",
        ("on-hold", "resume", "2026-03-01"), 3),
    Row("hold-expired-falls-through", A + "hold: {until: 2026-02-28}", "", "2026-03-01",
        ("overdue", "reminder", "2026-02-01"), 7),
    Row("hold-beats-dispute", A + "hold: {until: 2026-03-10}\ndisputes: [{opened: 2026-02-05}]",
        "", "2026-03-01", ("on-hold", "resume", "2026-03-10"), 3),
    Row("hold-on-nothing-due", "invoices: [{number: A, date: 2026-01-01, due: 2026-05-31, "
        "amount: 10.00}]\nhold: {until: 2026-03-10}", "", "2026-03-01",
        ("on-hold", "resume", "2026-03-10"), 3),
]


@table(RULE_3)
def test_rule_3_on_hold(row: Row) -> None:
    check(row)


# -- rule 4: disputes ------------------------------------------------------------------------

RULE_4 = [
    Row("dispute-on-invoice",
        A + "disputes: [{invoice: A, opened: 2026-02-05, reason: goods damaged}]",
        "", "2026-03-01", ("disputed", "resolve-dispute", "2026-02-05"), 4,
        "a dispute on invoice A is open since 2026-02-05 (goods damaged)"),
    Row("dispute-on-whole-case", A + "disputes: [{opened: 2026-02-05}]", "", "2026-03-01",
        ("disputed", "resolve-dispute", "2026-02-05"), 4, "a dispute on the whole case"),
    Row("oldest-open-dispute",
        AB + "disputes: [{invoice: A, opened: 2026-02-10}, {invoice: B, opened: 2026-02-03}]",
        "", "2026-03-01", ("disputed", "resolve-dispute", "2026-02-03"), 4, "invoice B"),
    Row("oldest-open-not-oldest-resolved",
        AB + "disputes: [{invoice: A, opened: 2026-02-01, resolved: 2026-02-10},\n"
             "           {invoice: B, opened: 2026-02-15}]",
        "", "2026-03-01", ("disputed", "resolve-dispute", "2026-02-15"), 4, "invoice B"),
    Row("opened-on-T", A + "disputes: [{opened: 2026-03-01}]", "", "2026-03-01",
        ("disputed", "resolve-dispute", "2026-03-01"), 4),
    Row("opened-after-T-ignored", A + "disputes: [{opened: 2026-03-05}]", "", "2026-03-01",
        ("overdue", "reminder", "2026-02-01"), 7),
    # resolved on R: the ladder resumes on R + 1 (the reminder was due 02-01)
    Row("resolved-before-T", A + "disputes: [{opened: 2026-02-05, resolved: 2026-02-20}]",
        "", "2026-03-01", ("overdue", "reminder", "2026-02-21"), 7),
    Row("resolved-on-T", A + "disputes: [{opened: 2026-02-05, resolved: 2026-03-01}]",
        "", "2026-03-01", ("overdue", "reminder", "2026-03-02"), 7),
    Row("resolution-after-T-ignored",
        A + "disputes: [{opened: 2026-02-05, resolved: 2026-03-05}]", "", "2026-03-01",
        ("disputed", "resolve-dispute", "2026-02-05"), 4),
    Row("dispute-on-invoice-not-yet-due-still-blocks",
        "invoices:\n"
        "  - {number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}\n"
        "  - {number: B, date: 2026-02-01, due: 2026-03-31, amount: 500.00}\n"
        "disputes: [{invoice: B, opened: 2026-02-05}]", "", "2026-02-20",
        ("disputed", "resolve-dispute", "2026-02-05"), 4, "invoice B"),
    Row("dispute-beats-plan-and-promise",
        A + "disputes: [{opened: 2026-02-20}]\n"
            "promises: [{made: 2026-02-05, by: 2026-02-10}]\n"
            "plans: [{agreed: 2026-02-12, instalments: [{due: 2026-02-15, amount: 1000.00}]}]",
        "", "2026-03-01", ("disputed", "resolve-dispute", "2026-02-20"), 4),
]


@table(RULE_4)
def test_rule_4_disputed(row: Row) -> None:
    check(row)



# -- rule 5: payment plans -------------------------------------------------------------------

# Invoice A under a plan agreed 2026-02-10: 400.00 due 03-10 (missed after 03-13, B = 03-14)
# and 600.00 due 04-10 (missed after 04-13, B = 04-14).
INSTALMENTS = "[{due: 2026-03-10, amount: 400.00}, {due: 2026-04-10, amount: 600.00}]"
PLAN = A + "plans: [{agreed: 2026-02-10, confirmed: 2026-02-11, instalments: " + INSTALMENTS + "}]"
UNCONFIRMED = A + "plans: [{agreed: 2026-02-10, instalments: " + INSTALMENTS + "}]"


def paid(*payments: str) -> str:
    return "\npayments: [" + ", ".join(
        f"{{date: {p.split()[0]}, amount: {p.split()[1]}}}" for p in payments) + "]"


RULE_5 = [
    Row("confirm-plan", UNCONFIRMED, "", "2026-02-10", ("plan", "confirm-plan", "2026-02-10"), 5,
        "the payment plan agreed on 2026-02-10 (2 instalments, 1,000.00) is not yet confirmed"),
    Row("confirmed-after-T-is-not-confirmed", PLAN, "", "2026-02-10",
        ("plan", "confirm-plan", "2026-02-10"), 5),
    Row("await-first-instalment", PLAN, "", "2026-02-11",
        ("plan", "await-instalment", "2026-03-10"), 5,
        "instalment 1 of 2 (400.00) falls due on 2026-03-10; 0.00 paid so far"),
    Row("await-second-instalment", PLAN + paid("2026-03-09 400.00"), "", "2026-03-20",
        ("plan", "await-instalment", "2026-04-10"), 5,
        "instalment 2 of 2 (600.00) falls due on 2026-04-10; 400.00 paid so far"),
    Row("next-unpaid-by-cumulative-amounts", PLAN + paid("2026-03-01 300.00"), "", "2026-03-12",
        ("plan", "await-instalment", "2026-03-10"), 5, "300.00 paid so far"),
    Row("overpaid-instalment-moves-on", PLAN + paid("2026-03-01 700.00"), "", "2026-03-05",
        ("plan", "await-instalment", "2026-04-10"), 5, "instalment 2 of 2 (600.00) falls due "
        "on 2026-04-10; 700.00 paid so far"),
    Row("instalment-paid-in-parts", PLAN + paid("2026-02-15 300.00", "2026-03-01 100.00"),
        "", "2026-03-05", ("plan", "await-instalment", "2026-04-10"), 5, "400.00 paid so far"),
    Row("instalment-part-after-T-ignored",
        PLAN + paid("2026-02-15 300.00", "2026-03-01 100.00"), "", "2026-02-28",
        ("plan", "await-instalment", "2026-03-10"), 5, "300.00 paid so far"),
    Row("due-plus-grace-is-not-yet-missed", PLAN, "", "2026-03-13",
        ("plan", "await-instalment", "2026-03-10"), 5),
    Row("the-day-after-is-missed", PLAN, "", "2026-03-14",
        ("overdue", "formal-notice", "2026-03-14"), 5,
        "instalment 1 of the payment plan of 2026-02-10 was missed (400.00 short after 3 days "
        "of grace): plan broken on 2026-03-14, so the plan B is formal-notice",
        "registered-letter"),
    Row("missed-even-if-unconfirmed", UNCONFIRMED, "", "2026-03-14",
        ("overdue", "formal-notice", "2026-03-14"), 5),
    Row("paid-on-last-grace-day", PLAN + paid("2026-03-13 400.00"), "", "2026-03-20",
        ("plan", "await-instalment", "2026-04-10"), 5),
    Row("paid-after-grace-too-late", PLAN + paid("2026-03-14 400.00"), "", "2026-03-20",
        ("overdue", "formal-notice", "2026-03-14"), 5),
    Row("paid-before-agreed-does-not-count", PLAN + paid("2026-02-09 400.00"), "", "2026-03-14",
        ("overdue", "formal-notice", "2026-03-14"), 5, "(400.00 short"),
    Row("short-payment", PLAN + paid("2026-03-09 300.00"), "", "2026-03-14",
        ("overdue", "formal-notice", "2026-03-14"), 5, "(100.00 short"),
    Row("second-instalment-missed-on-cumulative",
        PLAN + paid("2026-03-09 400.00", "2026-04-12 500.00"), "", "2026-04-14",
        ("overdue", "formal-notice", "2026-04-14"), 5, "instalment 2 of the payment plan"),
    Row("fully-paid-plan-does-not-govern",
        A + "plans: [{agreed: 2026-02-10, confirmed: 2026-02-11, instalments: "
            "[{due: 2026-03-10, amount: 300.00}, {due: 2026-04-10, amount: 300.00}]}]"
        + paid("2026-03-09 300.00", "2026-03-20 300.00"),
        log("2026-02-01 phone reminder"), "2026-03-25",
        ("overdue", "written-reminder", "2026-02-20"), 7, "400.00 overdue since 2026-01-31"),
    Row("plan-fallback-of-the-plan",
        A + "plans: [{agreed: 2026-02-10, fallback: final-notice, instalments: "
        + INSTALMENTS + "}]", "", "2026-03-14",
        ("overdue", "final-notice", "2026-03-14"), 5, "the plan B is final-notice", "email"),
    Row("plan-fallback-of-casebook-yml", PLAN, "", "2026-03-14",
        ("overdue", "final-notice", "2026-03-14"), 5, "the plan B is final-notice", "email",
        config="policy: {plan_fallback: final-notice}\n"),
    Row("plan-fallback-overrides-casebook-yml-by-alias",
        A + "plans: [{agreed: 2026-02-10, fallback: diffida, instalments: " + INSTALMENTS + "}]",
        "", "2026-03-14", ("overdue", "formal-notice", "2026-03-14"), 5,
        "the plan B is formal-notice", "registered-letter",
        config="policy: {plan_fallback: final-notice}\n"),
    Row("fallback-logged-on-B-plan-no-longer-governs", PLAN,
        log("2026-03-14 pec formal-notice"), "2026-03-20",
        ("overdue", "legal", "2026-05-01"), 7, "and 15 days after formal-notice on 2026-03-14"),
    Row("fallback-logged-before-B-still-governs", PLAN,
        log("2026-03-13 pec formal-notice"), "2026-03-20",
        ("overdue", "formal-notice", "2026-03-14"), 5),
    Row("lower-step-after-B-still-governs", PLAN,
        log("2026-03-16 email final-notice"), "2026-03-20",
        ("overdue", "formal-notice", "2026-03-14"), 5),
    Row("higher-step-after-B-no-longer-governs", PLAN,
        log("2026-03-16 letter legal"), "2026-03-20", ("legal", "none", None), 7,
        "legal done on 2026-03-16"),
    Row("fallback-logged-after-T-ignored", PLAN,
        log("2026-03-21 pec formal-notice"), "2026-03-20",
        ("overdue", "formal-notice", "2026-03-14"), 5),
    Row("latest-plan-governs",
        A + "plans:\n"
            "  - {agreed: 2026-02-10, instalments: [{due: 2026-02-20, amount: 1000.00}]}\n"
            "  - {agreed: 2026-03-01, confirmed: 2026-03-01,\n"
            "     instalments: [{due: 2026-03-20, amount: 1000.00}]}",
        "", "2026-03-05", ("plan", "await-instalment", "2026-03-20"), 5,
        "payment plan of 2026-03-01"),
    Row("plan-agreed-after-T-ignored",
        A + "plans:\n"
            "  - {agreed: 2026-02-10, instalments: [{due: 2026-02-20, amount: 1000.00}]}\n"
            "  - {agreed: 2026-03-01, confirmed: 2026-03-01,\n"
            "     instalments: [{due: 2026-03-20, amount: 1000.00}]}",
        "", "2026-02-25", ("overdue", "formal-notice", "2026-02-24"), 5,
        "plan broken on 2026-02-24"),
    Row("only-plan-agreed-after-T", PLAN, "", "2026-02-09",
        ("overdue", "reminder", "2026-02-01"), 7),
]


@table(RULE_5)
def test_rule_5_payment_plan(row: Row) -> None:
    check(row)


def test_rule_5_fallback_needs_no_phone_call() -> None:
    """The direct-contact rule belongs to rule 7 only: plan B is formal-notice, not `call`."""
    action = assess(case_text(PLAN, log("2026-02-01 email reminder")), "2026-03-14").action
    assert (triple(action), action.channel, action.letter) == (
        ("overdue", "formal-notice", "2026-03-14"), "registered-letter", "formal-notice")


# -- rule 6: promises ------------------------------------------------------------------------

# Two promises on invoice A: the 1st broken on 02-10 + 3 + 1 = 02-14, the 2nd on 02-24.
TWO_PROMISES = A + ("promises: [{made: 2026-02-05, by: 2026-02-10},"
                    " {made: 2026-02-15, by: 2026-02-20}]")

RULE_6 = [
    Row("promise-before-d0-ignored",
        A + "promises: [{made: 2026-01-20, by: 2026-02-10, amount: 1000.00}]", "", "2026-02-20",
        ("overdue", "reminder", "2026-02-01"), 7),
    Row("promise-after-T-ignored",
        A + "promises: [{made: 2026-02-10, by: 2026-02-20, amount: 1000.00}]", "", "2026-02-09",
        ("overdue", "reminder", "2026-02-01"), 7),
    Row("nothing-dunnable-no-promise-counts",
        "invoices: [{number: A, date: 2026-01-01, due: 2026-03-31, amount: 1000.00}]\n"
        "promises: [{made: 2026-02-05, by: 2026-02-10}]", "", "2026-02-20",
        ("current", "none", None), 8),
    Row("await-promise",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]", "", "2026-02-10",
        ("promise", "await-promise", "2026-02-15"), 6,
        "on 2026-02-05 the debtor promised 500.00 by 2026-02-15"),
    Row("pending-to-the-end-of-grace",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]", "", "2026-02-18",
        ("promise", "await-promise", "2026-02-15"), 6),
    Row("broken-the-day-after-grace",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]", "", "2026-02-19",
        ("overdue", "broken-promise", "2026-02-19"), 6,
        "the promise of 2026-02-05 to pay 500.00 by 2026-02-15 was not kept"),
    Row("kept-on-the-last-grace-day-goes-to-ladder",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]"
        + paid("2026-02-18 500.00"), "", "2026-02-25",
        ("overdue", "reminder", "2026-02-01"), 7, "500.00 overdue since 2026-01-31"),
    Row("kept-on-made-day",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]"
        + paid("2026-02-05 500.00"), "", "2026-02-25",
        ("overdue", "reminder", "2026-02-01"), 7),
    Row("payment-before-made-does-not-keep",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]"
        + paid("2026-02-04 500.00"), "", "2026-02-19",
        ("overdue", "broken-promise", "2026-02-19"), 6),
    Row("payment-after-grace-does-not-keep",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]"
        + paid("2026-02-19 500.00"), "", "2026-02-20",
        ("overdue", "broken-promise", "2026-02-19"), 6),
    Row("contact-on-B-moves-on-to-ladder",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]",
        log("2026-02-19 phone — no answer"), "2026-02-20",
        ("overdue", "reminder", "2026-02-01"), 7),
    Row("sms-after-B-moves-on-to-ladder",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]",
        log("2026-02-20 sms"), "2026-02-20", ("overdue", "reminder", "2026-02-01"), 7),
    Row("note-after-B-is-no-contact",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]",
        log("2026-02-19 note — must call them"), "2026-02-20",
        ("overdue", "broken-promise", "2026-02-19"), 6),
    Row("contact-before-B-does-not-count",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]",
        log("2026-02-18 email"), "2026-02-20",
        ("overdue", "broken-promise", "2026-02-19"), 6),
    Row("contact-after-T-ignored",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]",
        log("2026-02-21 phone"), "2026-02-20",
        ("overdue", "broken-promise", "2026-02-19"), 6),
    # Without an amount: the dunnable residual at the end of 02-05 — A after the 300.00 paid that
    # day (700.00); B is under an open dispute on 02-05, so not dunnable then.
    Row("amount-defaults-to-dunnable-at-end-of-made",
        AB + "disputes: [{invoice: B, opened: 2026-01-25, resolved: 2026-02-06}]"
        + paid("2026-02-05 300.00") + "\npromises: [{made: 2026-02-05, by: 2026-02-15}]",
        "", "2026-02-10", ("promise", "await-promise", "2026-02-15"), 6,
        "promised 700.00 by 2026-02-15"),
    Row("default-amount-kept",
        AB + "disputes: [{invoice: B, opened: 2026-01-25, resolved: 2026-02-06}]"
        + paid("2026-02-05 300.00", "2026-02-12 700.00")
        + "\npromises: [{made: 2026-02-05, by: 2026-02-15}]",
        "", "2026-02-20", ("overdue", "reminder", "2026-02-07"), 7,  # B's dispute ended 02-06
        "500.00 overdue since 2026-01-31"),
    Row("default-amount-not-kept",
        AB + "disputes: [{invoice: B, opened: 2026-01-25, resolved: 2026-02-06}]"
        + paid("2026-02-05 300.00", "2026-02-12 300.00")
        + "\npromises: [{made: 2026-02-05, by: 2026-02-15}]",
        "", "2026-02-19", ("overdue", "broken-promise", "2026-02-19"), 6,
        "to pay 700.00 by 2026-02-15"),
    # Literally, the 300.00 paid on `made` both lowers the default amount (to 700.00) and counts
    # towards keeping it: 300.00 + 400.00 reach 700.00, so the promise is kept.
    Row("payment-on-made-counts-twice-literally",
        AB + "disputes: [{invoice: B, opened: 2026-01-25, resolved: 2026-02-06}]"
        + paid("2026-02-05 300.00", "2026-02-12 400.00")
        + "\npromises: [{made: 2026-02-05, by: 2026-02-15}]",
        "", "2026-02-19", ("overdue", "reminder", "2026-02-07"), 7,  # B's dispute ended 02-06
        "800.00 overdue since 2026-01-31"),
    Row("one-broken-latest-pending", TWO_PROMISES, "", "2026-02-22",
        ("promise", "await-promise", "2026-02-20"), 6),
    Row("stalling", TWO_PROMISES, "", "2026-02-25", ("overdue", "formal-notice", "2026-02-24"), 6,
        "2 promises broken (the 2nd on 2026-02-24): the debtor is only gaining time",
        "registered-letter"),
    Row("stalling-counts-in-order-of-B",
        A + "promises:\n"
            "  - {made: 2026-02-05, by: 2026-02-25}\n"  # B = 03-01
            "  - {made: 2026-02-10, by: 2026-02-12}\n"  # B = 02-16
            "  - {made: 2026-02-20, by: 2026-02-22}",  # B = 02-26
        "", "2026-03-05", ("overdue", "formal-notice", "2026-02-26"), 6,
        "3 promises broken (the 2nd on 2026-02-26)"),
    Row("stalling-step-done-goes-on", TWO_PROMISES, log("2026-02-25 pec formal-notice"),
        "2026-02-26", ("overdue", "legal", "2026-05-01"), 7),
    Row("stalling-higher-step-done", TWO_PROMISES, log("2026-02-25 letter legal"),
        "2026-02-26", ("legal", "none", None), 7),
    Row("stalling-step-done-then-broken-promise", TWO_PROMISES,
        log("2026-02-23 pec formal-notice"), "2026-02-26",
        ("overdue", "broken-promise", "2026-02-24"), 6),
    Row("lower-step-does-not-suppress-stalling", TWO_PROMISES,
        log("2026-02-25 email final-notice"), "2026-02-26",
        ("overdue", "formal-notice", "2026-02-24"), 6),
    Row("step-before-d0-does-not-suppress-stalling", TWO_PROMISES,
        log("2026-01-20 pec formal-notice"), "2026-02-26",
        ("overdue", "formal-notice", "2026-02-24"), 6),
    Row("stalling-null-turns-it-off", TWO_PROMISES, "", "2026-02-25",
        ("overdue", "broken-promise", "2026-02-24"), 6, "the promise of 2026-02-15",
        config="policy: {stalling: null}\n"),
    Row("stalling-3-needs-three", TWO_PROMISES, "", "2026-02-25",
        ("overdue", "broken-promise", "2026-02-24"), 6, config="policy: {stalling: 3}\n"),
    Row("stalling-step-of-casebook-yml", TWO_PROMISES, "", "2026-02-25",
        ("overdue", "final-notice", "2026-02-24"), 6, "so final-notice at once",
        config="policy: {stalling_step: final-notice}\n"),
    Row("latest-kept-earlier-broken-goes-to-ladder",
        A + "promises: [{made: 2026-02-05, by: 2026-02-10, amount: 200.00},"
            " {made: 2026-02-15, by: 2026-02-20, amount: 300.00}]" + paid("2026-02-19 300.00"),
        "", "2026-02-25", ("overdue", "reminder", "2026-02-01"), 7,
        "700.00 overdue since 2026-01-31"),
]


@table(RULE_6)
def test_rule_6_promises(row: Row) -> None:
    check(row)


# -- rule 4 again: the ladder resumes after a dispute ------------------------------------

# Rule 4, its second sentence: after a dispute resolved on R, no step of the ladder is due
# before R + 1. Invoice A's calendar (d0 = 01-31): reminder 02-01, written-reminder 02-20,
# final-notice 03-02, formal-notice 03-17. PLAN breaks on 03-14, TWO_PROMISES stall on 02-24.
RESUMED = "after the dispute resolved on"
RULE_4_RESUMES = [
    Row("first-step-resumes-the-day-after",
        A + "disputes: [{invoice: A, opened: 2026-02-05, resolved: 2026-03-10}]", "",
        "2026-03-12", ("overdue", "reminder", "2026-03-11"), 7,
        "1,000.00 overdue since 2026-01-31: reminder is due 1 day after 2026-01-31; after the "
        "dispute resolved on 2026-03-10, the ladder resumes on 2026-03-11", "phone"),
    Row("resumes-on-T-plus-1-when-resolved-on-T",
        A + "disputes: [{invoice: A, opened: 2026-02-05, resolved: 2026-03-10}]", "",
        "2026-03-10", ("overdue", "reminder", "2026-03-11"), 7, RESUMED),
    Row("later-step-date-wins-and-says-nothing-of-the-dispute",
        A + "disputes: [{invoice: A, opened: 2026-02-02, resolved: 2026-02-10}]",
        log("2026-02-01 phone reminder"), "2026-02-12",
        ("overdue", "written-reminder", "2026-02-20"), 7,
        "written-reminder is due 20 days after 2026-01-31, and 7 days after reminder on "
        "2026-02-01"),
    Row("gap-then-resumption",
        A + "disputes: [{invoice: A, opened: 2026-02-04, resolved: 2026-03-05}]",
        log("2026-02-03 phone reminder"), "2026-03-08",
        ("overdue", "written-reminder", "2026-03-06"), 7,
        "7 days after reminder on 2026-02-03; after the dispute resolved on 2026-03-05, the "
        "ladder resumes on 2026-03-06"),
    Row("whole-case-dispute", A + "disputes: [{opened: 2026-02-05, resolved: 2026-02-25}]", "",
        "2026-03-01", ("overdue", "reminder", "2026-02-26"), 7, RESUMED),
    Row("dispute-on-another-invoice-paused-the-ladder-too",
        AB + "disputes: [{invoice: B, opened: 2026-02-05, resolved: 2026-02-25}]", "",
        "2026-03-01", ("overdue", "reminder", "2026-02-26"), 7, RESUMED),
    Row("the-latest-resolution-counts",
        AB + "disputes: [{invoice: B, opened: 2026-02-05, resolved: 2026-02-25},\n"
             "           {invoice: A, opened: 2026-02-02, resolved: 2026-02-10}]", "",
        "2026-03-01", ("overdue", "reminder", "2026-02-26"), 7,
        "after the dispute resolved on 2026-02-25"),
    Row("resolved-before-the-step-was-due-changes-nothing",
        A + "disputes: [{invoice: A, opened: 2026-01-10, resolved: 2026-01-20}]", "",
        "2026-02-05", ("overdue", "reminder", "2026-02-01"), 7,
        "1,000.00 overdue since 2026-01-31: reminder is due 1 day after 2026-01-31"),
    Row("resolution-after-T-is-still-a-dispute",
        A + "disputes: [{invoice: A, opened: 2026-02-05, resolved: 2026-03-10}]", "",
        "2026-03-09", ("disputed", "resolve-dispute", "2026-02-05"), 4),
    Row("call-resumes-too",
        A + "disputes: [{invoice: A, opened: 2026-03-05, resolved: 2026-04-01}]",
        log("2026-02-01 email reminder", "2026-02-20 email written-reminder",
            "2026-03-02 email final-notice"), "2026-04-03",
        ("overdue", "call", "2026-04-02"), 7,
        "; after the dispute resolved on 2026-04-01, the ladder resumes on 2026-04-02; first "
        "speak to the debtor", "phone"),
    Row("plan-b-resumes-too",
        PLAN + "\ndisputes: [{invoice: A, opened: 2026-03-15, resolved: 2026-03-25}]", "",
        "2026-03-28", ("overdue", "formal-notice", "2026-03-26"), 5,
        "so the plan B is formal-notice; after the dispute resolved on 2026-03-25, the ladder "
        "resumes on 2026-03-26", "registered-letter"),
    Row("plan-b-after-the-resumption-keeps-B",
        PLAN + "\ndisputes: [{invoice: A, opened: 2026-02-12, resolved: 2026-02-20}]", "",
        "2026-03-20", ("overdue", "formal-notice", "2026-03-14"), 5,
        "plan broken on 2026-03-14, so the plan B is formal-notice"),
    Row("stalling-step-resumes-too",
        TWO_PROMISES + "\ndisputes: [{invoice: A, opened: 2026-02-25, resolved: 2026-03-05}]",
        "", "2026-03-08", ("overdue", "formal-notice", "2026-03-06"), 6,
        "so formal-notice at once; after the dispute resolved on 2026-03-05, the ladder resumes "
        "on 2026-03-06"),
    # a broken promise is no step of the ladder: it is acted on at once, from its B
    Row("a-broken-promise-keeps-its-B",
        A + "promises: [{made: 2026-02-05, by: 2026-02-15, amount: 500.00}]\n"
            "disputes: [{invoice: A, opened: 2026-02-20, resolved: 2026-03-01}]", "",
        "2026-03-03", ("overdue", "broken-promise", "2026-02-19"), 6),
]


@table(RULE_4_RESUMES)
def test_rule_4_the_ladder_resumes_after_a_dispute(row: Row) -> None:
    action = check(row)
    # the reason says so exactly when the resumption moved the due date
    assert (RESUMED in action.reason) == (row.reason is not None and RESUMED in row.reason)


# -- rule 7: the ladder ----------------------------------------------------------------------

EMAIL_STEPS = ("2026-02-01 email reminder", "2026-02-20 email written-reminder",
               "2026-03-02 email final-notice")

RULE_7 = [
    Row("first-step", A, "", "2026-02-01", ("overdue", "reminder", "2026-02-01"), 7,
        "1,000.00 overdue since 2026-01-31: reminder is due 1 day after 2026-01-31", "phone"),
    Row("d0-plus-after-dominates", A, log("2026-02-01 phone reminder"), "2026-02-05",
        ("overdue", "written-reminder", "2026-02-20"), 7,
        "written-reminder is due 20 days after 2026-01-31, and 7 days after reminder on "
        "2026-02-01", "email"),
    Row("gap-dominates", A, log("2026-02-18 email reminder"), "2026-02-19",
        ("overdue", "written-reminder", "2026-02-25"), 7, "7 days after reminder on 2026-02-18"),
    Row("log-entry-after-T-ignored", A, log("2026-02-10 phone reminder"), "2026-02-09",
        ("overdue", "reminder", "2026-02-01"), 7),
    Row("log-entry-on-T-counts", A, log("2026-02-10 phone reminder"), "2026-02-10",
        ("overdue", "written-reminder", "2026-02-20"), 7),
    Row("last-step-is-the-highest-not-the-latest", A,
        log("2026-02-01 phone reminder", "2026-02-27 email written-reminder",
            "2026-03-01 phone reminder"), "2026-03-05",
        ("overdue", "final-notice", "2026-03-06"), 7,
        "7 days after written-reminder on 2026-02-27"),
    Row("last-step-date-is-its-latest-entry", A,
        log("2026-02-01 phone reminder", "2026-02-21 email written-reminder",
            "2026-02-28 email written-reminder"), "2026-03-01",
        ("overdue", "final-notice", "2026-03-07"), 7),
    Row("steps-may-be-skipped", A, log("2026-02-01 phone", "2026-02-05 email final-notice"),
        "2026-02-10", ("overdue", "formal-notice", "2026-03-17"), 7, None, "registered-letter"),
    Row("aliases-record-steps", A, log("2026-02-01 telefono sollecito"), "2026-02-05",
        ("overdue", "written-reminder", "2026-02-20"), 7),
    Row("call-before-formal-notice", A, log(*EMAIL_STEPS), "2026-03-05",
        ("overdue", "call", "2026-03-17"), 7,
        "first speak to the debtor: no phone call, visit or meeting since 2026-01-31", "phone"),
    Row("a-note-is-no-call", A, log(*EMAIL_STEPS, "2026-03-04 note — spoke about them"),
        "2026-03-05", ("overdue", "call", "2026-03-17"), 7),
    Row("an-email-is-no-call", A, log(*EMAIL_STEPS, "2026-03-04 email — asked to pay"),
        "2026-03-05", ("overdue", "call", "2026-03-17"), 7),
    Row("a-visit-counts", A, log(*EMAIL_STEPS, "2026-03-04 visit — at their office"),
        "2026-03-05", ("overdue", "formal-notice", "2026-03-17"), 7, None, "registered-letter"),
    Row("a-meeting-counts", A, log(*EMAIL_STEPS, "2026-03-04 incontro"),
        "2026-03-05", ("overdue", "formal-notice", "2026-03-17"), 7, None, "registered-letter"),
    Row("a-phone-step-counts", A, log("2026-02-01 phone reminder", *EMAIL_STEPS[1:]),
        "2026-03-05", ("overdue", "formal-notice", "2026-03-17"), 7),
    Row("a-call-before-d0-does-not-count", A, log("2026-01-20 phone", *EMAIL_STEPS),
        "2026-03-05", ("overdue", "call", "2026-03-17"), 7),
    Row("a-call-on-d0-counts", A, log("2026-01-31 phone", *EMAIL_STEPS),
        "2026-03-05", ("overdue", "formal-notice", "2026-03-17"), 7),
    Row("a-call-after-T-ignored", A, log(*EMAIL_STEPS, "2026-03-06 phone"),
        "2026-03-05", ("overdue", "call", "2026-03-17"), 7),
    Row("call-due-follows-the-gap", A,
        log("2026-02-01 email reminder", "2026-02-20 email written-reminder",
            "2026-03-15 email final-notice"), "2026-03-16",
        ("overdue", "call", "2026-03-22"), 7),
    Row("legal-wait-dominates", A,
        log("2026-02-01 phone reminder", "2026-04-20 pec formal-notice"), "2026-04-25",
        ("overdue", "legal", "2026-05-05"), 7, "15 days after formal-notice on 2026-04-20",
        "lawyer"),
    Row("legal-d0-dominates", A,
        log("2026-02-01 phone reminder", "2026-03-17 pec formal-notice"), "2026-03-20",
        ("overdue", "legal", "2026-05-01"), 7, "legal is due 90 days after 2026-01-31"),
    Row("legal-after-T-ignored", A,
        log("2026-02-01 phone reminder", "2026-04-20 pec formal-notice", "2026-05-06 letter legal"),
        "2026-05-05", ("overdue", "legal", "2026-05-05"), 7),
    Row("top-of-ladder", A,
        log("2026-02-01 phone reminder", "2026-04-20 pec formal-notice", "2026-05-06 letter legal"),
        "2026-05-10", ("legal", "none", None), 7,
        "1,000.00 overdue since 2026-01-31; legal done on 2026-05-06"),
]


@table(RULE_7)
def test_rule_7_ladder(row: Row) -> None:
    action = check(row)
    if action.action == "call":
        assert (action.channel, action.letter) == ("phone", None)
    elif action.action != "none":
        assert action.letter == {"reminder": "reminder", "written-reminder": "written-reminder",
                                 "final-notice": "final-notice", "formal-notice": "formal-notice",
                                 "legal": "dossier"}[action.action]


# -- the channel an action will really use (SPEC 4) ------------------------------------------

# A step whose channel is `pec` goes by registered letter when the debtor has no PEC address,
# whichever rule takes it; other channels are as the ladder says.
VISITED = log(*EMAIL_STEPS, "2026-03-04 visit — at their office")
CHANNELS = [
    Row("ladder-pec-without-pec", A, VISITED, "2026-03-05",
        ("overdue", "formal-notice", "2026-03-17"), 7, None, "registered-letter"),
    Row("ladder-pec-with-pec", A, VISITED, "2026-03-05",
        ("overdue", "formal-notice", "2026-03-17"), 7, None, "pec", debtor=WITH_PEC),
    Row("plan-b-without-pec", PLAN, "", "2026-03-14",
        ("overdue", "formal-notice", "2026-03-14"), 5, None, "registered-letter"),
    Row("plan-b-with-pec", PLAN, "", "2026-03-14",
        ("overdue", "formal-notice", "2026-03-14"), 5, None, "pec", debtor=WITH_PEC),
    Row("stalling-without-pec", TWO_PROMISES, "", "2026-02-25",
        ("overdue", "formal-notice", "2026-02-24"), 6, None, "registered-letter"),
    Row("stalling-with-pec", TWO_PROMISES, "", "2026-02-25",
        ("overdue", "formal-notice", "2026-02-24"), 6, None, "pec", debtor=WITH_PEC),
    Row("email-step-stays-email", A, log("2026-02-01 phone reminder"), "2026-02-05",
        ("overdue", "written-reminder", "2026-02-20"), 7, None, "email"),
    Row("custom-pec-step-without-pec", A, "", "2026-02-03", ("overdue", "nudge", "2026-02-05"), 7,
        None, "registered-letter",
        config="policy:\n  steps: [{id: nudge, after: 5, channel: pec, letter: final-notice}]\n"
               "  plan_fallback: null\n  stalling_step: null\n  direct_contact_before: null\n"),
]


@table(CHANNELS)
def test_the_channel_is_the_one_really_used(row: Row) -> None:
    action = check(row)
    assert action.letter == ("final-notice" if action.action == "nudge" else action.action)


# -- rule 8: nothing to do -------------------------------------------------------------------

RULE_8 = [
    Row("not-yet-due", A, "", "2026-01-30", ("current", "none", None), 8,
        "nothing overdue; next due: invoice A (1,000.00) on 2026-01-31"),
    Row("due-on-T-is-not-overdue", A, "", "2026-01-31", ("current", "none", None), 8),
    Row("names-the-earliest-due",
        "invoices:\n"
        "  - {number: A, date: 2026-02-01, due: 2026-03-31, amount: 500.00}\n"
        "  - {number: B, date: 2026-02-01, due: 2026-02-28, amount: 300.00}", "", "2026-02-10",
        ("current", "none", None), 8, "next due: invoice B (300.00) on 2026-02-28"),
    Row("names-the-residual",
        "invoices: [{number: A, date: 2026-02-01, due: 2026-03-31, amount: 1000.00}]"
        + paid("2026-02-05 250.00"), "", "2026-02-10",
        ("current", "none", None), 8, "next due: invoice A (750.00) on 2026-03-31"),
    Row("skips-paid-invoices",
        "invoices:\n"
        "  - {number: A, date: 2026-02-01, due: 2026-02-28, amount: 300.00}\n"
        "  - {number: B, date: 2026-02-01, due: 2026-03-31, amount: 500.00}"
        + paid("2026-02-05 300.00"), "", "2026-03-10",
        ("current", "none", None), 8, "next due: invoice B (500.00) on 2026-03-31"),
    Row("no-invoices-yet", A, "", "2025-12-31", ("current", "none", None), 8, "no invoices yet"),
]


@table(RULE_8)
def test_rule_8_current(row: Row) -> None:
    check(row)


# -- balances: allocation decides d0 ---------------------------------------------------------

# X is due last but first in the file; Y and Z are due together, Y first in the file.
XYZ = """invoices:
  - {number: X, date: 2026-02-01, due: 2026-02-28, amount: 300.00}
  - {number: Y, date: 2026-01-01, due: 2026-01-31, amount: 200.00}
  - {number: Z, date: 2026-01-01, due: 2026-01-31, amount: 200.00}
"""

BALANCES = [
    Row("unnamed-by-due-date-then-file-order", XYZ + "payments: [{date: 2026-02-05, "
        "amount: 400.00}]", "", "2026-03-10", ("overdue", "reminder", "2026-03-01"), 7,
        "300.00 overdue since 2026-02-28"),
    Row("unnamed-partial-leaves-the-later-in-file", XYZ + "payments: [{date: 2026-02-05, "
        "amount: 300.00}]", "", "2026-03-10", ("overdue", "reminder", "2026-02-01"), 7,
        "400.00 overdue since 2026-01-31"),
    Row("named-first-excess-by-due-date", XYZ + "payments: [{date: 2026-02-05, "
        "amount: 500.00, invoice: X}]", "", "2026-03-10", ("overdue", "reminder", "2026-02-01"),
        7, "200.00 overdue since 2026-01-31"),
    Row("named-z-first-excess-to-y-then-x", XYZ + "payments: [{date: 2026-02-05, "
        "amount: 500.00, invoice: Z}]", "", "2026-03-10", ("overdue", "reminder", "2026-03-01"),
        7, "200.00 overdue since 2026-02-28"),
    Row("excess-pays-invoices-not-yet-due", XYZ + "payments: [{date: 2026-02-05, "
        "amount: 600.00, invoice: Y}]", "", "2026-02-10", ("current", "none", None), 8,
        "next due: invoice X (100.00) on 2026-02-28"),
]


@table(BALANCES)
def test_balances_and_d0(row: Row) -> None:
    check(row)


def test_residuals_after_named_payment_and_excess() -> None:
    text = case_text(XYZ + "payments: [{date: 2026-02-05, amount: 500.00, invoice: X}]")
    s = assess(text, "2026-03-10").situation
    assert [(i.number, s.residual(i)) for i in s.invoices] == [
        ("X", Decimal("0.00")), ("Y", Decimal("0.00")), ("Z", Decimal("200.00"))]
    assert (s.d0, s.days_overdue, s.dunnable_amount) == (date(2026, 1, 31), 38,
                                                         Decimal("200.00"))


def test_excess_pays_a_disputed_invoice_too() -> None:
    text = case_text(XYZ + "payments: [{date: 2026-02-05, amount: 500.00, invoice: X}]\n"
                           "disputes: [{invoice: Y, opened: 2026-02-01}]")
    a = assess(text, "2026-03-10")
    s = a.situation
    assert [(i.number, s.residual(i)) for i in s.invoices] == [
        ("X", Decimal("0.00")), ("Y", Decimal("0.00")), ("Z", Decimal("200.00"))]
    assert ([i.number for i in s.dunnable], s.d0) == (["Z"], date(2026, 1, 31))
    assert (triple(a.action), a.action.rule) == (
        ("disputed", "resolve-dispute", "2026-02-01"), 4)


# -- overdue versus dunnable -----------------------------------------------------------------

THREE = """invoices:
  - {number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}
  - {number: B, date: 2026-02-01, due: 2026-02-28, amount: 500.00}
  - {number: C, date: 2026-03-01, due: 2026-03-31, amount: 200.00}
"""


def test_a_disputed_invoice_is_overdue_but_not_dunnable() -> None:
    a = assess(case_text(THREE + "disputes: [{invoice: A, opened: 2026-02-05}]"), "2026-03-10")
    s = a.situation
    assert [i.number for i in s.overdue] == ["A", "B"]
    assert [i.number for i in s.dunnable] == ["B"]
    assert (s.d0, s.days_overdue) == (date(2026, 2, 28), 10)
    assert (s.balance, s.overdue_amount, s.dunnable_amount) == (
        Decimal("1700.00"), Decimal("1500.00"), Decimal("500.00"))
    row = a.as_json()
    assert (row["status"], row["action"], row["due"]) == ("disputed", "resolve-dispute",
                                                         "2026-02-05")
    assert (row["balance"], row["overdue"], row["days_overdue"]) == ("1700.00", "1500.00", 10)


def test_a_dispute_naming_no_invoice_covers_all() -> None:
    a = assess(case_text(THREE + "disputes: [{opened: 2026-02-05}]"), "2026-03-10")
    s = a.situation
    assert [i.number for i in s.overdue] == ["A", "B"]
    assert (s.dunnable, s.d0, s.days_overdue) == ((), None, None)
    assert (a.as_json()["overdue"], a.as_json()["days_overdue"]) == ("1500.00", None)
    assert "the whole case" in a.action.reason


def test_a_resolved_dispute_makes_its_invoice_dunnable_again() -> None:
    text = case_text(THREE + "disputes: [{invoice: A, opened: 2026-02-05, resolved: 2026-03-05}]")
    a = assess(text, "2026-03-10")
    assert [i.number for i in a.situation.dunnable] == ["A", "B"]
    assert (a.situation.d0, a.situation.days_overdue) == (date(2026, 1, 31), 38)
    # the reminder was due 02-01; the ladder resumes the day after the resolution
    assert (triple(a.action), a.action.rule) == (("overdue", "reminder", "2026-03-06"), 7)


# -- steps done: an earlier, settled episode does not count ----------------------------------

OLD_EPISODE = """invoices:
  - {number: OLD, date: 2025-10-01, due: 2025-10-31, amount: 500.00}
  - {number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}
"""
OLD_LOG = log("2025-11-05 phone reminder", "2025-11-25 email written-reminder",
              "2025-12-10 email final-notice")

STEPS = [
    Row("old-episode-steps-do-not-count",
        OLD_EPISODE + "payments: [{date: 2025-12-20, amount: 500.00, invoice: OLD}]", OLD_LOG,
        "2026-02-05", ("overdue", "reminder", "2026-02-01"), 7,
        "1,000.00 overdue since 2026-01-31"),
    Row("old-episode-settled-by-unnamed-payment",
        OLD_EPISODE + "payments: [{date: 2025-12-20, amount: 500.00}]", OLD_LOG,
        "2026-02-05", ("overdue", "reminder", "2026-02-01"), 7),
    # Unpaid, OLD sets d0 = 2025-10-31: formal-notice due max(10-31 + 45, 12-10 + 7).
    Row("unsettled-episode-steps-count", OLD_EPISODE, OLD_LOG, "2026-02-05",
        ("overdue", "formal-notice", "2025-12-17"), 7, "1,500.00 overdue since 2025-10-31"),
    Row("step-on-d0-counts", A, log("2026-01-31 email written-reminder"), "2026-02-05",
        ("overdue", "final-notice", "2026-03-02"), 7),
    Row("step-the-day-before-d0-does-not", A, log("2026-01-30 email written-reminder"),
        "2026-02-05", ("overdue", "reminder", "2026-02-01"), 7),
]


@table(STEPS)
def test_steps_done_since_d0(row: Row) -> None:
    check(row)


def test_old_episode_leaves_no_step_done() -> None:
    text = case_text(OLD_EPISODE + "payments: [{date: 2025-12-20, amount: 500.00}]", OLD_LOG)
    s = assess(text, "2026-02-05").situation
    assert (s.d0, s.steps_done, s.last_step, s.last_step_date) == (date(2026, 1, 31), (), None,
                                                                   None)
    assert [e.step for e in s.log] == ["reminder", "written-reminder", "final-notice"]


# -- policies: named, and a custom ladder ----------------------------------------------------

GENTLE = "policies:\n  gentle: {min_gap: 14}\n"
LADDER = """policy:
  steps:
    - {id: nudge, after: 5, channel: sms}
    - {id: demand, after: 15, wait: 10, channel: registered-letter, letter: demand}
  plan_fallback: demand
  stalling_step: demand
  direct_contact_before: demand
"""

POLICIES = [
    Row("named-policy-min-gap", A + "policy: gentle", log("2026-02-18 email reminder"),
        "2026-02-19", ("overdue", "written-reminder", "2026-03-04"), 7,
        "14 days after reminder on 2026-02-18", config=GENTLE),
    Row("default-policy-beside-a-named-one", A, log("2026-02-18 email reminder"),
        "2026-02-19", ("overdue", "written-reminder", "2026-02-25"), 7, config=GENTLE),
    Row("named-policy-keeps-other-keys", A + "policy: gentle",
        log("2026-02-01 phone reminder"), "2026-02-05",
        ("overdue", "written-reminder", "2026-02-20"), 7, config=GENTLE),
    Row("custom-ladder-first-step", A, "", "2026-02-03", ("overdue", "nudge", "2026-02-05"), 7,
        "nudge is due 5 days after 2026-01-31", "sms", config=LADDER),
    Row("custom-ladder-call-first", A, log("2026-02-04 sms nudge"), "2026-02-06",
        ("overdue", "call", "2026-02-15"), 7, None, "phone", config=LADDER),
    Row("custom-ladder-wait", A, log("2026-02-10 phone nudge"), "2026-02-11",
        ("overdue", "demand", "2026-02-20"), 7, "10 days after nudge on 2026-02-10",
        "registered-letter", config=LADDER),
    Row("custom-ladder-after", A, log("2026-02-01 phone nudge"), "2026-02-02",
        ("overdue", "demand", "2026-02-15"), 7, None, "registered-letter", config=LADDER),
    Row("custom-ladder-top", A, log("2026-02-10 phone nudge", "2026-02-21 letter demand"),
        "2026-02-22", ("legal", "none", None), 7, "demand done on 2026-02-21", config=LADDER),
    Row("custom-ladder-plan-fallback", PLAN, "", "2026-03-14",
        ("overdue", "demand", "2026-03-14"), 5, "the plan B is demand", config=LADDER),
    Row("custom-ladder-stalling", TWO_PROMISES, "", "2026-02-25",
        ("overdue", "demand", "2026-02-24"), 6, config=LADDER),
    Row("direct-contact-off", A, log("2026-02-01 email reminder", "2026-02-20 email "
        "written-reminder", "2026-03-02 email final-notice"), "2026-03-05",
        ("overdue", "formal-notice", "2026-03-17"), 7,
        config="policy: {direct_contact_before: null}\n"),
]


@table(POLICIES)
def test_policies(row: Row) -> None:
    action = check(row)
    if action.action == "nudge":
        assert action.letter is None
    if action.action == "demand":
        assert action.letter == "demand"


# -- replays: one file, many days ------------------------------------------------------------

REPLAY = case_text(
    """invoices: [{number: "2026/101", date: 2026-07-01, due: 2026-07-31, amount: 1220.00}]
payments: [{date: 2026-11-10, amount: 1220.00, method: bank transfer}]
closed: {date: 2026-11-15, reason: paid in full}""",
    log("2026-08-03 email reminder — a friendly e-mail",
        "2026-08-21 email written-reminder",
        "2026-09-01 email final-notice",
        "2026-09-10 phone — Maria Bianchi promises nothing",
        "2026-09-16 pec formal-notice",
        "2026-10-30 letter legal — file sent to the lawyer"),
)
# d0 = 07-31: +1 = 08-01, +20 = 08-20, +30 = 08-30, +45 = 09-14, +90 = 10-29.
REPLAY_DAYS = [
    ("2026-07-30", ("current", "none", None),
     "next due: invoice 2026/101 (1,220.00) on 2026-07-31"),
    ("2026-07-31", ("current", "none", None), "on 2026-07-31"),
    ("2026-08-01", ("overdue", "reminder", "2026-08-01"), "1,220.00 overdue since 2026-07-31"),
    ("2026-08-03", ("overdue", "written-reminder", "2026-08-20"), "reminder on 2026-08-03"),
    ("2026-08-20", ("overdue", "written-reminder", "2026-08-20"), None),
    ("2026-08-21", ("overdue", "final-notice", "2026-08-30"), None),
    ("2026-08-30", ("overdue", "final-notice", "2026-08-30"), None),
    ("2026-09-01", ("overdue", "call", "2026-09-14"), "no phone call"),
    ("2026-09-09", ("overdue", "call", "2026-09-14"), None),
    ("2026-09-10", ("overdue", "formal-notice", "2026-09-14"), None),
    ("2026-09-14", ("overdue", "formal-notice", "2026-09-14"), None),
    ("2026-09-16", ("overdue", "legal", "2026-10-29"), None),
    ("2026-10-29", ("overdue", "legal", "2026-10-29"), None),
    ("2026-10-30", ("legal", "none", None), "legal done on 2026-10-30"),
    ("2026-11-10", ("settled", "close", "2026-11-10"), "the last payment on 2026-11-10"),
    ("2026-11-15", ("closed", "none", None), "paid in full"),
]


@pytest.mark.parametrize(("today", "expect", "reason"), REPLAY_DAYS,
                         ids=[d for d, *_ in REPLAY_DAYS])
def test_replay_of_a_case_through_the_ladder(today: str, expect: tuple[str, str, str | None],
                                             reason: str | None) -> None:
    action = assess(REPLAY, today).action
    assert triple(action) == expect, action.reason
    if reason is not None:
        assert reason in action.reason


def test_replay_without_the_phone_call_keeps_asking_for_one() -> None:
    text = REPLAY.replace("## 2026-09-10 phone", "## 2026-09-10 note")
    seen = [triple(assess(text, day).action)
            for day in ("2026-09-01", "2026-09-10", "2026-09-14", "2026-09-15")]
    assert seen == [("overdue", "call", "2026-09-14")] * 4
    # Logged anyway, the formal notice moves the case on to the lawyer.
    assert triple(assess(text, "2026-09-16").action) == ("overdue", "legal", "2026-10-29")


REPLAY_DEAL = case_text(
    """invoices: [{number: A, date: 2026-01-01, due: 2026-01-31, amount: 1000.00}]
promises:
  - {made: 2026-02-05, by: 2026-02-12}
  - {made: 2026-02-16, by: 2026-02-20}
plans:
  - agreed: 2026-02-27
    confirmed: 2026-03-02
    instalments: [{due: 2026-03-15, amount: 500.00}, {due: 2026-04-15, amount: 500.00}]
payments: [{date: 2026-03-14, amount: 500.00}]""",
    log("2026-02-02 phone reminder — will pay by the 12th",
        "2026-02-16 phone — promises again, by the 20th",
        "2026-04-20 pec formal-notice"),
)
# Promise 1 broken on 02-16 (02-12 + 3 + 1), promise 2 on 02-24; instalment 2 missed on 04-19.
REPLAY_DEAL_DAYS = [
    ("2026-02-01", ("overdue", "reminder", "2026-02-01"), 7),
    ("2026-02-02", ("overdue", "written-reminder", "2026-02-20"), 7),
    ("2026-02-06", ("promise", "await-promise", "2026-02-12"), 6),
    ("2026-02-15", ("promise", "await-promise", "2026-02-12"), 6),
    ("2026-02-16", ("promise", "await-promise", "2026-02-20"), 6),
    ("2026-02-23", ("promise", "await-promise", "2026-02-20"), 6),
    ("2026-02-24", ("overdue", "formal-notice", "2026-02-24"), 6),
    ("2026-02-27", ("plan", "confirm-plan", "2026-02-27"), 5),
    ("2026-03-02", ("plan", "await-instalment", "2026-03-15"), 5),
    ("2026-03-18", ("plan", "await-instalment", "2026-04-15"), 5),
    ("2026-04-18", ("plan", "await-instalment", "2026-04-15"), 5),
    ("2026-04-19", ("overdue", "formal-notice", "2026-04-19"), 5),
    ("2026-04-21", ("overdue", "legal", "2026-05-05"), 7),
]


@pytest.mark.parametrize(("today", "expect", "rule"), REPLAY_DEAL_DAYS,
                         ids=[d for d, *_ in REPLAY_DEAL_DAYS])
def test_replay_of_promises_then_a_plan(today: str, expect: tuple[str, str, str | None],
                                        rule: int) -> None:
    action = assess(REPLAY_DEAL, today).action
    assert (triple(action), action.rule) == (expect, rule), action.reason


def test_replay_of_a_partly_paid_plan_names_what_is_left() -> None:
    action = assess(REPLAY_DEAL, "2026-04-21").action
    assert action.reason == ("500.00 overdue since 2026-01-31: legal is due 90 days after "
                             "2026-01-31, and 15 days after formal-notice on 2026-04-20")


# -- properties ------------------------------------------------------------------------------

START = date(2026, 1, 1)
CHANNEL_WORDS = ("phone", "email", "pec", "visit", "meeting", "note", "sms")
STEP_WORDS = ("", "reminder", "written-reminder", "final-notice", "formal-notice", "legal")


def day_in(lo: int = 0, hi: int = 240) -> st.SearchStrategy[date]:
    return st.integers(min_value=lo, max_value=hi).map(lambda n: START + timedelta(days=n))


money_st = st.integers(min_value=1, max_value=200_000).map(lambda c: Decimal(c) / 100)


@st.composite
def case_files(draw: st.DrawFn) -> str:
    """A valid case file with a random history of invoices, payments and everything else."""
    n_inv = draw(st.integers(min_value=1, max_value=3))
    lines = ["invoices:"]
    numbers = []
    for n in range(n_inv):
        issued = draw(day_in(0, 120))
        due = issued + timedelta(days=draw(st.integers(min_value=0, max_value=60)))
        numbers.append(f"F{n}")
        lines.append(f'  - {{number: "F{n}", date: {issued}, due: {due}, '
                     f"amount: {draw(money_st)}}}")
    payments = draw(st.lists(st.tuples(day_in(), money_st,
                                       st.sampled_from([None, *numbers])), max_size=3))
    if payments:
        lines.append("payments:")
        for day, amount, named in payments:
            lines.append(f"  - {{date: {day}, amount: {amount}"
                         + (f', invoice: "{named}"' if named else "") + "}")
    disputes = draw(st.lists(st.tuples(day_in(), st.integers(0, 40) | st.none(),
                                       st.sampled_from([None, *numbers])), max_size=1))
    if disputes:
        lines.append("disputes:")
        for opened, length, named in disputes:
            lines.append(f"  - {{opened: {opened}"
                         + (f", resolved: {opened + timedelta(days=length)}"
                            if length is not None else "")
                         + (f', invoice: "{named}"' if named else "") + "}")
    promises = draw(st.lists(st.tuples(day_in(), st.integers(0, 20), money_st | st.none()),
                             max_size=3))
    if promises:
        lines.append("promises:")
        for made, wait, amount in promises:
            lines.append(f"  - {{made: {made}, by: {made + timedelta(days=wait)}"
                         + (f", amount: {amount}" if amount is not None else "") + "}")
    if draw(st.booleans()):
        agreed = draw(day_in())
        confirmed = draw(st.none() | st.integers(0, 10))
        instalments = draw(st.lists(st.tuples(st.integers(0, 90), money_st), min_size=1,
                                    max_size=3))
        lines.append(f"plans:\n  - agreed: {agreed}")
        if confirmed is not None:
            lines.append(f"    confirmed: {agreed + timedelta(days=confirmed)}")
        lines.append(f"    fallback: {draw(st.sampled_from(STEP_WORDS[1:]))}")
        lines.append("    instalments:")
        for offset, amount in sorted(instalments):
            lines.append(f"      - {{due: {agreed + timedelta(days=offset)}, amount: {amount}}}")
    if draw(st.booleans()):
        lines.append(f"hold: {{until: {draw(day_in())}}}")
    if draw(st.booleans()):
        lines.append(f"closed: {{date: {draw(day_in())}}}")
    entries = draw(st.lists(st.tuples(day_in(), st.sampled_from(CHANNEL_WORDS),
                                      st.sampled_from(STEP_WORDS)), max_size=6))
    headings = [f"{day} {channel} {step}".rstrip() for day, channel, step in entries]
    return case_text("\n".join(lines), log(*headings))


@given(case_files(), day_in(0, 300), st.lists(day_in(0, 300), max_size=4))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_the_next_action_is_a_pure_function_of_the_text_and_the_day(
    text: str, today: date, others: list[date]
) -> None:
    first = assess_case(parse(text), DEFAULT, today)
    case = parse(text)
    for other in others:  # other days evaluated first, on the same parsed case
        assess_case(case, DEFAULT, other)
    again = assess_case(case, DEFAULT, today)
    assert again.action == first.action
    assert again.as_json() == first.as_json()
    action = first.action
    assert 1 <= action.rule <= 8
    assert (action.due is None) == (action.action == "none")
    assert action.reason and "\n" not in action.reason


STEP_IDS = frozenset(s.id for s in DEFAULT.policy.steps)
IN_ITALIAN, IN_ENGLISH = config_of("locale: it\n"), config_of("locale: en\n")


@given(case_files(), day_in(0, 300))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_no_step_is_due_before_the_ladder_resumes_and_every_reason_reads(text: str,
                                                                          today: date) -> None:
    assessment = assess_case(parse(text), DEFAULT, today)
    action, resumes = assessment.action, assessment.situation.ladder_resumes
    if resumes is not None and action.action in STEP_IDS | {"call"}:
        assert action.due is not None and action.due >= resumes, action.reason
    for config in IN_ITALIAN, IN_ENGLISH:
        said = assess_case(assessment.case, config, today).said
        assert said and "{" not in said and "\n" not in said


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[str, date, Decimal, Decimal]:
    """A case of invoices and random payments, the day T, and what is invoiced and paid by T."""
    today = draw(day_in(0, 200))
    invoiced = paid_ = Decimal(0)
    lines = ["invoices:"]
    numbers = []
    for n in range(draw(st.integers(min_value=1, max_value=4))):
        issued = draw(day_in(0, 150))
        amount = draw(money_st)
        numbers.append(f"F{n}")
        lines.append(f'  - {{number: "F{n}", date: {issued}, '
                     f"due: {issued + timedelta(days=draw(st.integers(0, 60)))}, "
                     f"amount: {amount}}}")
        invoiced += amount if issued <= today else 0
    payments = draw(st.lists(st.tuples(day_in(), money_st, st.sampled_from([None, *numbers])),
                             max_size=6))
    if payments:
        lines.append("payments:")
    for day, amount, named in payments:
        lines.append(f"  - {{date: {day}, amount: {amount}"
                     + (f', invoice: "{named}"' if named else "") + "}")
        paid_ += amount if day <= today else 0
    return case_text("\n".join(lines)), today, invoiced, paid_


@given(ledgers())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_residuals_add_up_to_invoiced_less_paid(ledger: tuple[str, date, Decimal, Decimal]
                                                ) -> None:
    text, today, invoiced, paid_ = ledger
    s = assess_case(parse(text), DEFAULT, today).situation
    residuals = [s.residual(i) for i in s.invoices]
    assert sum(residuals, Decimal(0)) == s.balance == max(invoiced - paid_, Decimal(0))
    assert s.allocation.unapplied == max(paid_ - invoiced, Decimal(0))
    assert all(0 <= r <= i.amount for r, i in zip(residuals, s.invoices, strict=True))
    assert s.overdue_amount == sum((s.residual(i) for i in s.invoices if i.due < today),
                                   Decimal(0))
    if s.balance == 0 and s.invoices:
        assert assess_case(parse(text), DEFAULT, today).action.action == "close"
