"""The immutable facts of a casebook, as the loader reads them from the files.

Every later stage (checks, the engine, rendering) reads these objects and never changes them;
derived results such as balances or the next action are new objects built elsewhere.
This module holds no logic beyond small lookups and never touches a file or the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, get_args

DebtorKind = Literal["business", "consumer", "public"]
InterestMethod = Literal["commercial", "legal", "none"]
ClaimKind = Literal["ordinary", "periodic", "professional"]  # the prescription term, SPEC 10
RatedMethod = Literal["commercial", "legal"]  # the methods with a rate table
Imputation = Literal["capital-first", "interest-first"]

#: The one list of debtor kinds: case files, casebook.yml and the CLI read it from here.
DEBTOR_KINDS: tuple[DebtorKind, ...] = get_args(DebtorKind)
INTEREST_METHODS: tuple[InterestMethod, ...] = get_args(InterestMethod)
RATED_METHODS: tuple[RatedMethod, ...] = get_args(RatedMethod)
IMPUTATIONS: tuple[Imputation, ...] = get_args(Imputation)
CLAIM_KINDS: tuple[ClaimKind, ...] = get_args(ClaimKind)

CHANNELS: tuple[str, ...] = (
    "phone", "email", "pec", "letter", "registered-letter",
    "visit", "meeting", "sms", "chat", "note",
)
CHANNEL_ALIASES: Mapping[str, str] = {
    "telefono": "phone",
    "mail": "email",
    "lettera": "letter",
    "raccomandata": "registered-letter",
    "visita": "visit",
    "incontro": "meeting",
    "nota": "note",
}
#: Channels that count as talking to the debtor directly (SPEC 5, rule 7).
DIRECT_CHANNELS: frozenset[str] = frozenset({"phone", "visit", "meeting"})


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column in a file, for diagnostics."""

    line: int
    col: int


NOWHERE = Pos(1, 1)


@dataclass(frozen=True, kw_only=True)
class Debtor:
    name: str
    kind: DebtorKind = "business"
    vat: str | None = None
    address: str | None = None
    pec: str | None = None
    email: str | None = None
    phone: str | None = None
    contact: str | None = None
    cf: str | None = None  # codice fiscale
    sdi: str | None = None  # SdI recipient code (codice destinatario)
    iban: str | None = None  # the account it pays from, learned by `import bank`


@dataclass(frozen=True, kw_only=True)
class Instalment:
    due: dt.date
    amount: Decimal
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class Invoice:
    number: str
    date: dt.date
    due: dt.date
    amount: Decimal
    description: str | None = None
    total: Decimal | None = None  # the document's total when it differs (withholding, split VAT)
    source: str | None = None  # the e-invoice file it came from, relative to the casebook root
    schedule: tuple[Instalment, ...] = ()  # the parts it is payable in, when more than one
    claim: ClaimKind = "ordinary"  # its prescription term: 10, 5 or 3 years from its due date
    #: For the engine's parts of a scheduled invoice: the number of the invoice it is part of.
    #: Never read from a file (`casebook.engine.billing` makes parts).
    part_of: str | None = None
    pos: Pos = NOWHERE

    @property
    def invoice_number(self) -> str:
        """The number of the invoice in the case file (its own, or the one it is a part of)."""
        return self.part_of or self.number


@dataclass(frozen=True, kw_only=True)
class Credit:
    """A credit note: it lowers `invoice` from its issue on, as if billed lower."""

    number: str
    date: dt.date
    amount: Decimal
    invoice: str
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class Payment:
    date: dt.date
    amount: Decimal
    invoice: str | None = None
    method: str | None = None
    reference: str | None = None
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class Dispute:
    opened: dt.date
    invoice: str | None = None
    reason: str | None = None
    resolved: dt.date | None = None
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class Promise:
    made: dt.date
    by: dt.date
    amount: Decimal | None = None
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class Plan:
    agreed: dt.date
    instalments: tuple[Instalment, ...]
    confirmed: dt.date | None = None
    fallback: str | None = None
    pos: Pos = NOWHERE

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.instalments), Decimal(0))


@dataclass(frozen=True, kw_only=True)
class Hold:
    until: dt.date
    reason: str | None = None
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class Closed:
    date: dt.date
    reason: str | None = None
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class Court:
    """The claim is in court from `filed` on: the ladder stops, prescription stops running."""

    filed: dt.date
    kind: str | None = None  # decreto-ingiuntivo, citazione, …
    number: str | None = None  # "RG 1234/2027"
    court: str | None = None  # "Tribunale di Bergamo"
    pos: Pos = NOWHERE


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    """One dated heading of the contact log and the Markdown note under it."""

    date: dt.date
    channel: str
    step: str | None = None
    title: str = ""
    note: str = ""
    pos: Pos = NOWHERE

    @property
    def is_contact(self) -> bool:
        return self.channel != "note"


@dataclass(frozen=True, kw_only=True)
class Case:
    id: str
    path: str  # relative to the casebook root, with forward slashes
    debtor: Debtor
    owner: str | None = None
    tags: tuple[str, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    credits: tuple[Credit, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    promises: tuple[Promise, ...] = ()
    plans: tuple[Plan, ...] = ()
    hold: Hold | None = None
    closed: Closed | None = None
    court: Court | None = None
    policy: str | None = None
    notes: str = ""  # the Markdown before the first dated heading
    log: tuple[LogEntry, ...] = ()


# --- casebook.yml ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Step:
    id: str
    after: int
    channel: str
    letter: str | None = None
    wait: int | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Policy:
    """One escalation policy; `None` in a rule's field means that rule is off."""

    steps: tuple[Step, ...]
    min_gap: int | None = 7
    promise_grace: int | None = 3
    stalling: int | None = 2
    plan_fallback: str | None = "formal-notice"
    stalling_step: str | None = "formal-notice"
    direct_contact_before: str | None = "formal-notice"
    prescription_warning: int | None = 90  # days before a claim prescribes: interrupt it
    payment_acknowledges: bool = False  # a part payment restarts prescription (courts differ)
    letters_ahead: int | None = 7  # days ahead a next action's letter is built; None: any
    _index: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, int] = {}
        for rank, step in enumerate(self.steps):
            for word in (step.id, *step.aliases):
                index.setdefault(word.lower(), rank)
        object.__setattr__(self, "_index", index)

    def resolve(self, word: str) -> str | None:
        """The step id that `word` (an id or an alias, any case) names, if any."""
        rank = self._index.get(word.lower())
        return None if rank is None else self.steps[rank].id

    def rank(self, step_id: str) -> int:
        """The position of a step in the ladder; raises KeyError for an unknown id."""
        return self._index[step_id.lower()]

    def step(self, step_id: str) -> Step:
        return self.steps[self.rank(step_id)]

    def words(self) -> tuple[str, ...]:
        """Every id and alias, for suggestions."""
        return tuple(self._index)


@dataclass(frozen=True, kw_only=True)
class Creditor:
    name: str | None = None
    address: str | None = None
    vat: str | None = None
    iban: str | None = None
    pec: str | None = None
    email: str | None = None
    phone: str | None = None
    signature: str | None = None


@dataclass(frozen=True, kw_only=True)
class Lawyer:
    """The lawyer the dossier names (casebook.yml `lawyer:`)."""

    name: str | None = None
    pec: str | None = None
    address: str | None = None


@dataclass(frozen=True, kw_only=True)
class RateRow:
    """An interest rate in percent per year, in force from `start` until the next row."""

    start: dt.date
    rate: Decimal
    source: str = ""
    provisional: bool = False  # a year with no legal-rate row yet, at the previous year's rate


@dataclass(frozen=True, kw_only=True)
class InterestSettings:
    """The interest keys of casebook.yml, and the law they are read under.

    A debtor kind's method left at `None` is the one the law gives that kind
    (`casebook.engine.law`); the rows of each `*_rates` table are added to the law's own.
    """

    business: InterestMethod | None = None
    consumer: InterestMethod | None = None
    public: InterestMethod | None = None
    imputation: Imputation = "capital-first"
    commercial_rates: tuple[RateRow, ...] = ()
    legal_rates: tuple[RateRow, ...] = ()
    law: str = "it"  # a key of casebook.engine.law.LAWS; casebook.yml has no key for it yet

    def chosen(self, kind: DebtorKind) -> InterestMethod | None:
        """The method casebook.yml sets for `kind`, or None: the law's."""
        method: InterestMethod | None = getattr(self, kind)
        return method

    def extra_rates(self, method: RatedMethod) -> tuple[RateRow, ...]:
        """The rows casebook.yml adds to the law's table for `method`."""
        rows: tuple[RateRow, ...] = getattr(self, f"{method}_rates")
        return rows


@dataclass(frozen=True, kw_only=True)
class Config:
    policy: Policy
    creditor: Creditor = Creditor()
    lawyer: Lawyer | None = None
    locale: Literal["it", "en"] = "it"
    currency: str = "EUR"
    policies: Mapping[str, Policy] = field(default_factory=dict)
    interest: InterestSettings = InterestSettings()

    def policy_for(self, case: Case) -> Policy:
        """The case's named policy, or the default one (an unknown name is a validate error)."""
        if case.policy is None:
            return self.policy
        return self.policies.get(case.policy, self.policy)
