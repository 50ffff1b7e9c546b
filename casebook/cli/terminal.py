"""Text for the terminal: the `next` table and the `show` page, as strings.

Styling goes through `click.style`; whether colour reaches the screen is the CLI's decision
(`click.echo` drops it when output is not a terminal, and NO_COLOR turns it off).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import click

from casebook.engine.interest import CaseInterest
from casebook.engine.prescription import ClaimTerm
from casebook.engine.reasons import money
from casebook.engine.situation import Situation
from casebook.load.assess import Assessment, Row

STATUS_COLOURS = {
    "overdue": "red",
    "legal": "magenta",
    "court": "magenta",
    "promise": "yellow",
    "plan": "yellow",
    "disputed": "cyan",
    "on-hold": "blue",
    "settled": "green",
    "current": "green",
    "closed": "bright_black",
}


_CONTROL = re.compile(r"\r\n|[\x00-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """Text from a case file, made safe for one line of a terminal: line breaks and tabs
    become spaces, and other control characters (ESC starts a terminal escape sequence that
    could recolour, hide or rewrite the screen) become U+FFFD."""
    if text.isprintable():
        return text
    return _CONTROL.sub(lambda m: " " if m[0].isspace() else "\ufffd", text)


def status(word: str) -> str:
    return click.style(word, fg=STATUS_COLOURS.get(word))


def _pad(text: str, styled: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - len(text))
    return gap + styled if right else styled + gap


def next_table(rows: Sequence[Row], today: date) -> str:
    """The rows as a table, each with its debtor and reason on the line below (rows for
    people: `next_task(…, for_people=True)`, the reason in the casebook's locale)."""
    if not rows:
        return "Nothing to do."
    headers = ("DUE", "CASE", "STATUS", "ACTION", "OVERDUE", "DAYS")
    cells = [
        (r["due"] or "-", r["case"], r["status"], r["action"], money(Decimal(r["overdue"])),
         "" if r["days_overdue"] is None else str(r["days_overdue"]))
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    right = {4, 5}
    lines = ["  ".join(_pad(h, click.style(h, bold=True), widths[i], i in right)
                       for i, h in enumerate(headers))]
    for r, row in zip(rows, cells, strict=True):
        due = r["due"]
        styles = [
            click.style(row[0], fg="red", bold=True) if due and due <= today.isoformat()
            else row[0],
            click.style(row[1], bold=True), status(row[2]), row[3], row[4], row[5],
        ]
        lines.append("  ".join(_pad(row[i], styles[i], widths[i], i in right)
                               for i in range(len(headers))).rstrip())
        lines.append("    " + click.style(plain(f"{r['debtor']}: {r['reason']}"), dim=True))
    return "\n".join(lines)


def show_case(a: Assessment, interest: CaseInterest | None, recent: int = 5) -> str:
    case, s, act = a.case, a.situation, a.action
    d = case.debtor
    out = [click.style(plain(d.name), bold=True) + f"  ({case.id}, {d.kind})"]
    for label, value in (("VAT", d.vat), ("PEC", d.pec), ("e-mail", d.email),
                         ("phone", d.phone), ("contact", d.contact), ("owner", case.owner)):
        if value:
            out.append(f"  {label}: {plain(value)}")
    out += ["", f"Status: {status(act.status)}   balance {money(s.balance)}   "
                f"overdue {money(s.overdue_amount)}"
            + (f"   {s.days_overdue} days since {s.d0}" if s.d0 else "")]
    due = act.due.isoformat() if act.due else "-"
    out.append(click.style(f"Next: {act.action}", bold=True) + f"  due {due}"
               + (f"  by {act.channel}" if act.channel else "")
               + (f"  letter {act.letter}" if act.letter else ""))
    out.append(f"  {plain(a.said)}")
    court = case.court
    if court is not None and court.filed <= s.today:
        out.append(f"Court: filed {court.filed}" + "".join(
            f"  {plain(part)}" for part in (court.kind, court.number, court.court) if part))
    out += ["", click.style("Invoices", bold=True), *_invoice_lines(s)]
    if interest is not None:
        out += _interest_lines(interest)
    entries = s.log[-recent:]
    if entries:
        out += ["", click.style(f"Recent contacts (last {len(entries)} of {len(s.log)})",
                                bold=True)]
        for entry in entries:
            step = f" [{entry.step}]" if entry.step else ""
            title = f" — {plain(entry.title)}" if entry.title else ""
            out.append(f"  {entry.date} {entry.channel}{step}{title}")
    return "\n".join(out)


def _invoice_lines(s: Situation) -> list[str]:
    """Each invoice: its dates, amount, residual, days overdue and, while open, when it
    prescribes."""
    claims = {c.invoice.number: c for c in s.claims}
    lines = []
    for invoice in s.invoices:
        residual = s.residual(invoice)
        late = (s.today - invoice.due).days if residual and invoice.due < s.today else 0
        lines.append(f"  {plain(invoice.number):<12} {invoice.date}  due {invoice.due}  "
                     f"{money(invoice.amount):>12}  residual {money(residual):>12}"
                     + (f"  {late} days overdue" if late else "")
                     + (prescription(claims.get(invoice.number), s.today) if residual else ""))
    return lines


def prescription(claim: ClaimTerm | None, today: date) -> str:
    """An open claim's prescription on its invoice's line (SPEC 10)."""
    if claim is None:
        return ""
    if claim.prescribes is None:
        return "  in court"
    if claim.prescribed(today):
        return "  " + click.style(f"prescribed on {claim.prescribes}", fg="red")
    return f"  prescribes {claim.prescribes}"


def _interest_lines(interest: CaseInterest) -> list[str]:
    if interest.method == "none":
        return []
    lines = ["", click.style(f"Interest ({interest.method} rate, to {interest.interest_to})",
                             bold=True)]
    for item in interest.invoices:
        for seg in item.segments:
            lines.append(f"  {plain(item.number):<12} {seg.first} – {seg.last}  "
                         f"{seg.days:>4} days  {money(seg.capital):>12} at {seg.rate}%  "
                         f"= {money(seg.amount):>9}" + ("  provisional" if seg.provisional else ""))
    total = interest.interest
    lines.append(f"  interest {money(total)}   compensation {money(interest.compensation)}   "
                 f"claim {money(interest.claim)}")
    if interest.interest_paid > Decimal(0):
        lines.append(f"  (interest already paid: {money(interest.interest_paid)})")
    return lines
