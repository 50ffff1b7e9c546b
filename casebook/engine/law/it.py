"""Italian law of late payment, as casebook computes it (SPEC 6, domain/law-it.md).

Business and public debtors owe the commercial rate of D.Lgs. 231/2002 art. 5 (the ECB main
refinancing rate on 1 January / 1 July + 8 points, by semester) and EUR 40 per invoice
(art. 6 c.2); consumers owe the legal rate of art. 1284 c.c., by calendar year, which stays
unchanged unless a decree changes it by 15 December, so the last one is carried into a year with
no row yet. The rows themselves are data, in casebook/data/rates.yml.
This module owns those choices and nothing else: the arithmetic, the merge with casebook.yml and
the warnings' wording belong to `casebook.engine.interest` and `casebook.engine.law.tables`.
It never reads the clock, the environment or any file but rates.yml.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal

from casebook.engine.law.base import Law, RateTable
from casebook.engine.law.tables import read_rate_file
from casebook.model import DebtorKind, InterestMethod, RatedMethod, RateRow

Tables = tuple[tuple[RateRow, ...], tuple[RateRow, ...]]
COMMERCIAL = RateTable(
    method="commercial",
    months=6,
    carried=False,
    published="the MEF communiqué in the Gazzetta Ufficiale (the ECB main refinancing rate "
              "on 1 January / 1 July, + 8 points)",
)
LEGAL = RateTable(
    method="legal",
    months=12,
    carried=True,
    published="the decree of the Ministry of Economy and Finance (MEF) in the Gazzetta Ufficiale "
              "(published by 15 December; without one the rate stays unchanged, art. 1284 c.c.)",
)
FIXED_COMPENSATION = Decimal("40.00")  # D.Lgs. 231/2002 art. 6 c.2, per invoice


@functools.cache
def shipped_rates() -> Tables:
    """The (commercial, legal) tables shipped in casebook/data/rates.yml, sorted by start."""
    commercial, legal = read_rate_file("rates.yml", ("commercial", "legal"))
    return commercial, legal


def compensation(kind: DebtorKind, method: InterestMethod) -> Decimal:
    """EUR 40 per invoice wherever the commercial method applies, whoever the debtor is."""
    return FIXED_COMPENSATION if method == "commercial" else Decimal(0)


def covered_to(rows: tuple[RateRow, ...], method: RatedMethod) -> date:
    """The last day the Italian table of `method` with these rows covers."""
    return ITALY.table(method).covered_to(rows)


ITALY = Law(
    code="it",
    name="Italy: D.Lgs. 231/2002 (commercial rate, EUR 40), art. 1284 c.c. (legal rate)",
    methods=(("business", "commercial"), ("consumer", "legal"), ("public", "commercial")),
    tables=(COMMERCIAL, LEGAL),
    compensation=compensation,
    shipped=shipped_rates,
    # art. 1284 c. 4 c.c.: from the filing, a consumer's legal rate becomes D.Lgs. 231/2002's
    in_court=(("consumer", "legal", "commercial"),),
)
