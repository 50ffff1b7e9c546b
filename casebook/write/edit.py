"""Writing facts into a case file's text: new log entries, payments, promises and disputes.

Owns the edits behind `log`, `pay`, `promise` and `dispute`: each takes the file's text and
returns it with the new text inserted and every other character as it was (comments, key order,
quoting, flow or block style, the newline style, a missing final newline). YAML is never dumped:
the place to insert is found from `yaml.compose` marks and the new item is written in the style
of its neighbours. The words of a command are checked before (`write.values`) and the result is
read back after (`write.readback.verify`). Everything here is text in, text out; it never
touches a file, the clock or the environment, and refuses with `Refused` and a message saying
why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from casebook.model import Credit, Dispute, Invoice, LogEntry, Payment, Promise
from casebook.read.casefile import split_front_matter
from casebook.read.yamlread import YamlSyntaxError, compose, is_null
from casebook.write.readback import verify
from casebook.write.values import (
    BOM,
    Refused,
    channel_id,
    clean_note,
    invoice_of,
    one_line,
    parse_amount,
    parse_any_day,
    parse_day,
    refuse_overpayment,
    step_id,
    strip_comments,
)

#: The edits, and the names `casebook.cli.edit` reaches as `edit.…` from `values` and `readback`.
__all__ = [
    "Refused", "add_debtor_key", "channel_id", "clean_note", "heading",
    "insert_credit", "insert_dispute", "insert_invoice", "insert_item",
    "insert_log", "insert_payment", "insert_promise", "invoice_of", "newline_of", "one_line",
    "parse_amount", "parse_any_day", "parse_day", "refuse_overpayment", "step_id",
    "strip_comments", "verify", ]

_ODD_BREAKS = re.compile(r"\r(?!\n)|[\x85\u2028\u2029]")
_PLAIN_EXTRA = frozenset(" .'/()_+-")
_NOT_PLAIN = frozenset({"true", "false", "", "~", "null", "Null", "NULL"})


# -- the log: an entry appended at the end of the body --------------------------------------


def heading(entry: LogEntry) -> str:
    words = ["##", entry.date.isoformat(), entry.channel]
    if entry.step:
        words.append(entry.step)
    if entry.title:
        words += ["—", entry.title]
    return " ".join(words)


def insert_log(text: str, entry: LogEntry) -> str:
    """The text with `entry` appended after everything else, one blank line before it."""
    body, bom = _without_bom(text)
    split = split_front_matter(body)
    if isinstance(split, str):
        raise Refused(split)
    nl = newline_of(body)
    block = nl.join([heading(entry), *entry.note.split("\n")] if entry.note else [heading(entry)])
    ends = body.endswith("\n")
    lines = body.split("\n")
    last = lines[-2] if ends else lines[-1]
    before = ("" if ends else nl) + ("" if not last.strip() else nl)
    return bom + body + before + block + (nl if ends else "")


def newline_of(text: str) -> str:
    """The file's newline: that of its first line."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


# -- the front matter: an item added to a list ----------------------------------------------


def insert_payment(text: str, payment: Payment) -> str:
    return insert_item(text, "payments", [
        ("date", payment.date.isoformat()), ("amount", f"{payment.amount:.2f}"),
        ("invoice", _quoted(payment.invoice)), ("method", _scalar(payment.method)),
        ("reference", _scalar(payment.reference)),
    ])


def insert_promise(text: str, promise: Promise) -> str:
    amount = None if promise.amount is None else f"{promise.amount:.2f}"
    return insert_item(text, "promises", [
        ("made", promise.made.isoformat()), ("by", promise.by.isoformat()), ("amount", amount),
    ])


def insert_dispute(text: str, dispute: Dispute) -> str:
    return insert_item(text, "disputes", [
        ("invoice", _quoted(dispute.invoice)), ("opened", dispute.opened.isoformat()),
        ("reason", _scalar(dispute.reason)),
    ])


def insert_invoice(text: str, invoice: Invoice) -> str:
    total = None if invoice.total is None else f"{invoice.total:.2f}"
    schedule = None
    if invoice.schedule:
        schedule = "[" + ", ".join(f"{{due: {p.due.isoformat()}, amount: {p.amount:.2f}}}"
                                   for p in invoice.schedule) + "]"
    return insert_item(text, "invoices", [
        ("number", _quoted(invoice.number)), ("date", invoice.date.isoformat()),
        ("due", invoice.due.isoformat()), ("amount", f"{invoice.amount:.2f}"),
        ("total", total), ("description", _scalar(invoice.description)),
        ("source", _scalar(invoice.source)), ("schedule", schedule),
    ])


def insert_credit(text: str, credit: Credit) -> str:
    return insert_item(text, "credits", [
        ("number", _quoted(credit.number)), ("date", credit.date.isoformat()),
        ("amount", f"{credit.amount:.2f}"), ("invoice", _quoted(credit.invoice)),
    ])


def add_debtor_key(text: str, key: str, value: str) -> str:
    """The text with `key: value` added to the debtor's mapping (which must not have it)."""
    body, bom = _without_bom(text)
    front = _front_matter(body)
    debtor = next((v for k, v in front.root.value
                   if isinstance(k, ScalarNode) and k.value == "debtor"), None)
    if not isinstance(debtor, MappingNode) or not debtor.value:
        raise Refused("the case has no 'debtor:' mapping to add to; fix it first")
    if any(isinstance(k, ScalarNode) and k.value == key for k, _ in debtor.value):
        raise Refused(f"the debtor already has '{key}:'")
    new = _scalar(value) or ""
    if debtor.flow_style:
        at = front.offset(debtor.end_mark.line, debtor.end_mark.column) - 1  # the '}'
        return bom + front.text[:at] + f", {key}: {new}" + front.text[at:]
    first = debtor.value[0][0]
    indent = " " * first.start_mark.column
    at = front.line_end(_last_content_line(front, debtor))
    return bom + front.text[:at] + f"{indent}{key}: {new}{front.nl}" + front.text[at:]


Fields = list[tuple[str, str]]


def insert_item(text: str, key: str, fields: Iterable[tuple[str, str | None]]) -> str:
    """The text with a new item of the list `key`; absent fields (None) are left out."""
    body, bom = _without_bom(text)
    front = _front_matter(body)
    item = [(name, value) for name, value in fields if value is not None]
    found = [(k, v) for k, v in front.root.value if isinstance(k, ScalarNode) and k.value == key]
    if len(found) > 1:
        raise Refused(f"the front matter has '{key}:' twice; fix that first")
    if not found:
        return bom + _add_section(front, key, item)
    key_node, value = found[0]
    if is_null(value) or (isinstance(value, SequenceNode) and not value.value):
        return bom + _fill_empty(front, key_node, value, item)
    if not isinstance(value, SequenceNode):
        raise Refused(f"'{key}:' must be a list; fix it first (casebook validate says how)")
    if value.flow_style:
        return bom + _append_flow(front, value, item)
    return bom + _append_block(front, value, item)


@dataclass(frozen=True)
class _Front:
    """The front matter of a text, with what is needed to turn marks into offsets."""

    text: str
    root: MappingNode
    starts: list[int]  # offset in `text` of each line of the YAML
    nl: str

    def offset(self, line: int, column: int) -> int:
        return self.starts[line] + column

    def line_end(self, line: int) -> int:
        """The offset just past the line's newline (the start of the next line)."""
        return self.starts[line + 1]

    def prefix(self, line: int, column: int) -> str:
        return self.text[self.starts[line]:self.offset(line, column)]

    @property
    def end(self) -> int:
        """Where the closing `---` line starts."""
        return self.starts[-1]


def _front_matter(text: str) -> _Front:
    split = split_front_matter(text)
    if isinstance(split, str):
        raise Refused(split)
    yaml_text = split[0]
    if _ODD_BREAKS.search(yaml_text):
        raise Refused("the front matter has line breaks other than LF or CRLF; "
                      "save the file with ordinary line ends first")
    try:
        root = compose(yaml_text)
    except YamlSyntaxError as exc:
        raise Refused(f"the front matter cannot be read ({exc.message}); fix it first") from None
    if not isinstance(root, MappingNode) or root.flow_style:
        raise Refused("the front matter must be a block mapping of keys (one per line) "
                      "for casebook to add to it")
    start = text.index("\n") + 1
    starts = [start]
    for index, char in enumerate(yaml_text):
        if char == "\n":
            starts.append(start + index + 1)
    return _Front(text, root, starts, newline_of(text))


def _add_section(front: _Front, key: str, item: Fields) -> str:
    """A new `key:` list at the end of the front matter."""
    column: int = front.root.value[0][0].start_mark.column
    yaml_lines = front.text[front.starts[0]:front.end].split("\n")[:-1]
    blank = [not line.strip() for line in yaml_lines]
    gap = front.nl if any(blank) and not blank[-1] else ""
    block = " " * column + f"{key}:" + front.nl + _new_list(front, column, item)
    return front.text[:front.end] + gap + block + front.text[front.end:]


def _fill_empty(front: _Front, key_node: Node, value: Node, item: Fields) -> str:
    """`key:`, `key: ~` or `key: []` becomes `key:` with a block list under it."""
    text = front.text
    column = key_node.start_mark.column
    start = front.offset(value.start_mark.line, value.start_mark.column)
    end = front.offset(value.end_mark.line, value.end_mark.column)
    last_line = value.end_mark.line if end > start else key_node.end_mark.line
    at = front.line_end(last_line)
    if end > start and not text[end:at].strip():
        while start > 0 and text[start - 1] in " \t":  # no trailing blanks after `key:`
            start -= 1
    return text[:start] + text[end:at] + _new_list(front, column, item) + text[at:]


def _new_list(front: _Front, key_column: int, item: Fields) -> str:
    """A one-item block list under a key, indented and styled like the file's other lists."""
    indent, gap, flow = 2, 1, False
    for key_node, value in front.root.value:
        if isinstance(value, SequenceNode) and not value.flow_style and value.value:
            dash, gap = _dash(front, value, value.value[0])
            indent = dash - key_node.start_mark.column
            flow = isinstance(value.value[0], MappingNode) and bool(value.value[0].flow_style)
            break
    return _block_item(front.nl, key_column + max(indent, 0), gap, item, flow)


def _append_block(front: _Front, sequence: SequenceNode, item: Fields) -> str:
    """A new item after the last one of a block list, at the same indentation and style."""
    last = sequence.value[-1]
    dash, gap = _dash(front, sequence, last)
    flow = isinstance(last, MappingNode) and bool(last.flow_style)
    at = front.line_end(_last_content_line(front, last))
    return front.text[:at] + _block_item(front.nl, dash, gap, item, flow) + front.text[at:]


def _append_flow(front: _Front, sequence: SequenceNode, item: Fields) -> str:
    """`, {…}` after the last item of a `[...]` list (on a new line if items have their own)."""
    items = sequence.value
    last = items[-1]
    before = items[-2] if len(items) > 1 else sequence
    at = front.offset(last.end_mark.line, last.end_mark.column)
    new = _flow_mapping(item)
    if last.start_mark.line > before.start_mark.line:
        indent = front.prefix(last.start_mark.line, last.start_mark.column)
        if indent.strip():
            indent = " " * last.start_mark.column
        new = front.nl + indent + new
    else:
        new = " " + new
    return front.text[:at] + "," + new + front.text[at:]


def _dash(front: _Front, sequence: SequenceNode, item: Node) -> tuple[int, int]:
    """The column of an item's `-` and the spaces after it."""
    match = re.fullmatch(r"(\s*)-(\s+)", front.prefix(item.start_mark.line, item.start_mark.column))
    if match is None:
        return sequence.start_mark.column, 1
    return len(match.group(1)), len(match.group(2))


def _last_content_line(front: _Front, node: Node) -> int:
    """The YAML line of the last character that belongs to `node` (marks of block nodes
    reach on to the next token, past blank lines and comments)."""
    while isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    end = front.offset(node.end_mark.line, node.end_mark.column)
    while end > front.starts[0] and front.text[end - 1] in " \t\r\n":
        end -= 1
    line = node.start_mark.line
    while line + 1 < len(front.starts) and front.starts[line + 1] < end:
        line += 1
    return line


def _block_item(nl: str, dash: int, gap: int, item: Fields, flow: bool) -> str:
    first = " " * dash + "-" + " " * gap
    if flow:
        return first + _flow_mapping(item) + nl
    rest = " " * (dash + 1 + gap)
    lines = [(first if index == 0 else rest) + f"{name}: {value}"
             for index, (name, value) in enumerate(item)]
    return nl.join(lines) + nl


def _flow_mapping(item: Fields) -> str:
    return "{" + ", ".join(f"{name}: {value}" for name, value in item) + "}"


def _quoted(value: str | None) -> str | None:
    return None if value is None else str(json.dumps(value, ensure_ascii=False))


def _scalar(value: str | None) -> str | None:
    """Plain when that reads back as the same text in block and flow context, else quoted."""
    if value is None:
        return None
    plain = (value[:1].isalpha() and value not in _NOT_PLAIN and value == value.strip()
             and all(char.isalnum() or char in _PLAIN_EXTRA for char in value))
    return value if plain else _quoted(value)


def _without_bom(text: str) -> tuple[str, str]:
    return (text[1:], BOM) if text.startswith(BOM) else (text, "")
