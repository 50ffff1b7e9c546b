"""What happened to a message sent from the contact log: its Message-ID and its PEC receipts.

`casebook send --smtp` writes the message's `Message-ID: <…>` line into the note of the log
entry it appends, and `casebook receipts` appends one line per receipt under it:

    Message-ID: <20261120.rossi.formal-notice.1a2b3c4d@casebook.example.it>
    accepted 2026-11-20 10:30:01 +0100
    delivered 2026-11-20 10:32:05 +0100

or `not accepted …: reason` / `delivery failed …: reason`. The note is the fact, as a person can
read and write it; this module only reads those lines back (and makes them, for the writers),
so that the rules, the case page and the dossier agree on what reached the debtor. What counts
in law is the delivery (CAD art. 48): `delivered_on` is its day. It never reads a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from casebook.model import LogEntry

ReceiptKind = Literal["accepted", "delivered", "not accepted", "delivery failed"]
RECEIPT_KINDS: tuple[ReceiptKind, ...] = ("accepted", "delivered", "not accepted",
                                          "delivery failed")
_RECEIPT = re.compile(
    r"^(accepted|delivered|not accepted|delivery failed) (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) "
    r"([+-]\d{4})(?:: (.+?))?\s*$", re.MULTILINE)
_MESSAGE_ID = re.compile(r"^Message-ID: (<[^<>\s]+>)\s*$", re.MULTILINE)


@dataclass(frozen=True, kw_only=True)
class Receipt:
    kind: ReceiptKind
    day: date
    time: str  # hh:mm:ss, as the provider gave it
    zone: str  # +0100
    reason: str | None = None  # of a failure

    @property
    def stamp(self) -> str:
        return f"{self.day.isoformat()} {self.time} {self.zone}"

    @property
    def failed(self) -> bool:
        return self.kind in ("not accepted", "delivery failed")


@dataclass(frozen=True, kw_only=True)
class Delivery:
    message_id: str | None
    receipts: tuple[Receipt, ...]  # in the note's order

    @property
    def delivered(self) -> Receipt | None:
        return next((r for r in self.receipts if r.kind == "delivered"), None)

    @property
    def delivered_on(self) -> date | None:
        found = self.delivered
        return None if found is None else found.day

    @property
    def failure(self) -> Receipt | None:
        """The failure that stands: a refusal or failed delivery with no delivery after all."""
        if self.delivered is not None:
            return None
        return next((r for r in reversed(self.receipts) if r.failed), None)

    @property
    def state(self) -> str:
        """sent, accepted, delivered or failed (nothing known beyond the sending: sent)."""
        if self.delivered is not None:
            return "delivered"
        if self.failure is not None:
            return "failed"
        if any(r.kind == "accepted" for r in self.receipts):
            return "accepted"
        return "sent"


def delivery_of(entry: LogEntry) -> Delivery:
    """The Message-ID and receipts written in the entry's note (none for most entries)."""
    note = entry.note
    if "Message-ID:" not in note and not any(k in note for k in ("accepted", "deliver")):
        return Delivery(message_id=None, receipts=())
    found = _MESSAGE_ID.search(note)
    receipts = tuple(
        Receipt(kind=m.group(1), day=date.fromisoformat(m.group(2)), time=m.group(3),  # type: ignore[arg-type]
                zone=m.group(4), reason=m.group(5))
        for m in _RECEIPT.finditer(note) if _is_date(m.group(2)))
    return Delivery(message_id=found.group(1) if found else None, receipts=receipts)


def receipt_line(receipt: Receipt) -> str:
    """The note's line for a receipt, as `delivery_of` reads it back."""
    reason = f": {' '.join(receipt.reason.split())}" if receipt.reason else ""
    return f"{receipt.kind} {receipt.stamp}{reason}"


def message_id_line(message_id: str) -> str:
    return f"Message-ID: {message_id}"


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
