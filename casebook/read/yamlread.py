"""Reading YAML into exact values, with the line and column of every problem.

YAML is composed into nodes (libyaml's C parser when present), never constructed: no tag can
build an object, numbers keep their text so `97.10` becomes `Decimal("97.10")`, and only the
plain words `true` and `false` are booleans (YAML 1.2). Readers here turn nodes into values and
record diagnostics; they never raise to their caller and never touch a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from casebook.diagnostics import Diagnostic, Severity, did_you_mean
from casebook.model import Pos

try:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]

    LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    LIBYAML = False


if LIBYAML:

    class _Composer(_Parser, BaseResolver):
        def __init__(self, stream: str) -> None:
            _Parser.__init__(self, stream)
            BaseResolver.__init__(self)

        def resolve(self, kind: type, value: object, implicit: object) -> str:
            # Untagged nodes get their kind's standard tag; values are typed by our readers.
            return _DEFAULT_TAGS[kind]

else:  # pragma: no cover
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader as _StreamReader
    from yaml.scanner import Scanner

    class _Composer(_StreamReader, Scanner, Parser, Composer, BaseResolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            _StreamReader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            BaseResolver.__init__(self)


_DEFAULT_TAGS = {
    ScalarNode: "tag:yaml.org,2002:str",
    SequenceNode: "tag:yaml.org,2002:seq",
    MappingNode: "tag:yaml.org,2002:map",
}
STANDARD_TAGS = frozenset(
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
MAX_FLOW_DEPTH = 100
# Bounds that keep every computation exact and in range: amounts and interest stay within the
# 28 digits of decimal arithmetic, and a date plus any number of days stays a date.
MAX_AMOUNT = Decimal("1e12")
MAX_RATE = Decimal(1000)
MAX_RATE_DECIMALS = 6
MAX_DAYS = 36_500
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_MONEY = re.compile(r"[+-]?\d+(?:\.(\d+))?")
_RATE = re.compile(r"\d+(?:\.(\d+))?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"\d+")

T = TypeVar("T")


class YamlSyntaxError(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def compose(text: str) -> Node | None:
    """The document's node tree; raises YamlSyntaxError with a 0-based position."""
    _check_flow_depth(text)
    loader = _Composer(text)
    try:
        return loader.get_single_node()  # type: ignore[no-any-return,unused-ignore]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line, mark.column) if mark else (0, 0)
        tab = _indenting_tab(text, line)
        if tab is not None:
            raise YamlSyntaxError(*tab, TAB_MESSAGE) from None
        problem = exc.problem or str(exc)
        context = f" {exc.context}" if exc.context else ""
        raise YamlSyntaxError(line, col, f"YAML syntax: {problem}{context}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(0, 0, f"YAML syntax: {exc}") from None
    finally:
        loader.dispose()


TAB_MESSAGE = "tabs are not allowed for indentation in YAML; use spaces"


def _indenting_tab(text: str, error_line: int) -> tuple[int, int] | None:
    """The 0-based line and column of a tab in the indentation of the line where YAML failed,
    or of the line above it: the cause of the error."""
    lines = text.split("\n", error_line + 1)[: error_line + 1]
    for number in range(len(lines) - 1, max(len(lines) - 3, -1), -1):
        line = lines[number]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return number, indent.index("\t")
    return None


def _check_flow_depth(text: str) -> None:
    """Refuse absurd [ { nesting before the parser recurses into it and exhausts the stack."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return
    depth = line = col = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                raise YamlSyntaxError(
                    line, col, f"YAML nested more than {MAX_FLOW_DEPTH} levels deep"
                )
        elif char in "]}":
            depth = max(0, depth - 1)
        if char == "\n":
            line, col = line + 1, 0
        else:
            col += 1


class Fields(dict[str, Any]):
    """The values read from one mapping, with where each key's value stands."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.at: dict[str, Node] = {}
        self.reader: Reader | None = None

    def where(self, key: str) -> Pos:
        node = self.at.get(key)
        if node is None or self.reader is None:
            return self.pos
        return self.reader.pos(node)


class Invalid(Exception):
    """A value that cannot be read; the reader turns it into a diagnostic at `node`."""

    def __init__(self, node: Node, message: str, code: str = "type") -> None:
        super().__init__(message)
        self.node, self.message, self.code = node, message, code


Read = Callable[[Node], T]


class AnyKey(Mapping[str, Callable[[Node], Any]]):
    """A field table that accepts every key with the same reader (named policies, shipped
    files with no schema of their own)."""

    def __init__(self, read: Callable[[Node], Any]) -> None:
        self.read = read

    def __getitem__(self, key: str) -> Callable[[Node], Any]:
        return self.read

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


class Reader:
    """Reads one YAML document of one file, collecting diagnostics.

    `line_offset` is the number of file lines before the YAML text (front matter starts
    after its `---` line).
    """

    def __init__(self, path: str, line_offset: int = 0) -> None:
        self.path = path
        self.line_offset = line_offset
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[int] = set()

    # -- positions and reporting -------------------------------------------

    def pos(self, node: Node) -> Pos:
        mark = node.start_mark
        return Pos(mark.line + 1 + self.line_offset, mark.column + 1)

    def report(self, pos: Pos, severity: Severity, code: str, message: str) -> None:
        self.diagnostics.append(
            Diagnostic(self.path, pos.line, pos.col, severity, code, message)
        )

    def error(self, node_or_pos: Node | Pos, code: str, message: str) -> None:
        pos = node_or_pos if isinstance(node_or_pos, Pos) else self.pos(node_or_pos)
        self.report(pos, Severity.ERROR, code, message)

    def warning(self, node_or_pos: Node | Pos, code: str, message: str) -> None:
        pos = node_or_pos if isinstance(node_or_pos, Pos) else self.pos(node_or_pos)
        self.report(pos, Severity.WARNING, code, message)

    def attempt(self, read: Callable[[Node], T | None], node: Node) -> tuple[bool, T | None]:
        """Run `read`; a failure becomes a diagnostic and (False, None)."""
        try:
            return True, read(node)
        except Invalid as exc:
            self.error(exc.node, exc.code, exc.message)
            return False, None

    # -- structure ---------------------------------------------------------

    def visit(self, node: Node) -> Node:
        """Mark a node as read; a node reached twice came through an alias."""
        seen = self._seen
        if id(node) in seen:
            raise Invalid(node, "anchors and aliases (&name, *name) are not allowed here; "
                          "write the value out", "alias")
        seen.add(id(node))
        tag = node.tag
        if tag not in STANDARD_TAGS and tag != "!":
            raise Invalid(node, f"the YAML tag {tag!r} is not allowed; remove it", "tag")
        return node

    def mapping(
        self,
        node: Node,
        fields: Mapping[str, Read[Any]],
        *,
        what: str,
        required: Collection[str] = (),
    ) -> Fields | None:
        """Read a mapping by its fields; None when a required field is missing or bad."""
        self.visit(node)
        if not isinstance(node, MappingNode):
            raise Invalid(node, f"{what} must be a mapping of keys to values, "
                          f"found {describe(node)}")
        values = Fields(self.pos(node))
        values.reader = self
        complete = True
        first_at: dict[str, Node] = {}
        at = values.at
        for key_node, value_node in node.value:
            key = self._key(key_node, first_at, fields, what)
            if key is None:
                continue
            at[key] = value_node
            try:
                value = fields[key](value_node)
            except Invalid as exc:
                self.error(exc.node, exc.code, exc.message)
                if key in required:
                    complete = False
                continue
            if value is not None:
                values[key] = value
            elif key in required:
                if is_null(value_node):
                    self.error(value_node, "missing-key", f"'{key}' in {what} must not be empty")
                complete = False
        missing = [k for k in required if k not in first_at]
        for key in missing:
            self.error(node, "missing-key", f"{what} is missing the required key '{key}'")
        return values if complete and not missing else None

    def _key(
        self,
        key_node: Node,
        first_at: dict[str, Node],
        fields: Mapping[str, Read[Any]],
        what: str,
    ) -> str | None:
        if not isinstance(key_node, ScalarNode):
            self.error(key_node, "key", f"a key in {what} must be a plain word")
            return None
        key = key_node.value
        if key in first_at:
            first = self.pos(first_at[key])
            self.error(key_node, "duplicate-key",
                       f"duplicate key '{key}' in {what} (first at line {first.line}); "
                       "YAML would silently keep only the last one")
            return None
        first_at[key] = key_node
        if key not in fields:
            hint = did_you_mean(key, fields)
            self.error(key_node, "unknown-key", f"unknown key '{_short(key)}' in {what}{hint}")
            return None
        return str(key)

    def sequence(self, node: Node, item: Callable[[Node], T | None], *, what: str) -> tuple[T, ...]:
        """Read a list; bad items are reported and left out."""
        self.visit(node)
        if isinstance(node, ScalarNode) and is_null(node):
            return ()
        if not isinstance(node, SequenceNode):
            raise Invalid(node, f"{what} must be a list (items starting with '- '), "
                          f"found {describe(node)}")
        items: list[T] = []
        for child in node.value:
            ok, value = self.attempt(item, child)
            if ok and value is not None:
                items.append(value)
        return tuple(items)

    # -- scalars -----------------------------------------------------------

    def scalar(self, node: Node, what: str) -> str | None:
        self.visit(node)
        if not isinstance(node, ScalarNode):
            raise Invalid(node, f"expected {what}, found {describe(node)}")
        if is_null(node):
            return None
        return str(node.value)

    def text(self, node: Node) -> str | None:
        value = self.scalar(node, "text")
        plain = not getattr(node, "style", None)
        if value is not None and plain and value in ("true", "false"):
            raise Invalid(node, f"expected text, found the boolean {value}; "
                          f"write \"{value}\" in quotes if you mean the word")
        if value is not None and "\x00" in value:  # written as "\0" or "\x00" in quotes
            raise Invalid(node, "the text holds a NUL character", "encoding")
        return None if value is None else value.rstrip("\n")

    def money(self, node: Node) -> Decimal | None:
        value = self.scalar(node, "an amount")
        if value is None:
            return None
        return parse_money(node, value.strip())

    def positive_money(self, node: Node) -> Decimal | None:
        amount = self.money(node)
        if amount is not None and amount <= 0:
            raise Invalid(node, f"the amount must be more than zero, found {amount}", "amount")
        return amount

    def percent(self, node: Node) -> Decimal | None:
        value = self.scalar(node, "a rate in percent")
        if value is None:
            return None
        match = _RATE.fullmatch(value.strip())
        if not match:
            raise Invalid(node, f"{value!r} is not a rate; write it in percent, like 10.15")
        rate = Decimal(value.strip())
        if rate >= MAX_RATE or len(match.group(1) or "") > MAX_RATE_DECIMALS:
            raise Invalid(node, f"{_short(value)} is not a plausible rate: a rate is below "
                          f"{MAX_RATE} % with at most {MAX_RATE_DECIMALS} decimals", "value")
        return rate

    def date(self, node: Node) -> date | None:
        value = self.scalar(node, "a date")
        if value is None:
            return None
        return parse_date(node, value.strip())

    def integer(self, node: Node) -> int | None:
        value = self.scalar(node, "a whole number")
        if value is None:
            return None
        digits = value.strip()
        if not _INTEGER.fullmatch(digits):
            raise Invalid(node, f"expected a whole number of days, found {_short(value)!r}")
        digits = digits.lstrip("0") or "0"
        if len(digits) > len(str(MAX_DAYS)) or int(digits) > MAX_DAYS:
            raise Invalid(node, f"{_short(value)} is too large: at most {MAX_DAYS:,}", "value")
        return int(digits)

    def text_list(self, node: Node) -> tuple[str, ...]:
        def item(child: Node) -> str:
            value = self.text(child)
            if value is None:
                raise Invalid(child, "an empty item in a list of words")
            return value

        return self.sequence(node, item, what="this list")


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and node.value in _NULLS


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if is_null(node):
        return "nothing"
    return repr(_short(node.value))


def parse_money(node: Node, text: str) -> Decimal:
    match = _MONEY.fullmatch(text)
    if match is None or len(match.group(1) or "") > 2:
        meant = separated_amount(text)
        if meant is not None:  # 1.220 is a number to YAML, but no amount has three decimals
            raise Invalid(node, f"{_short(text)} is not an amount: {SEPARATORS_HINT}: {meant}"
                          + _or_fewer_decimals(text), "amount")
    if not match:
        raise Invalid(node, f"{_short(text)!r} is not an amount; write it like 1220.00 "
                      "(a dot for decimals, no thousands separator)", "amount")
    decimals = match.group(1)
    if decimals is not None and len(decimals) > 2:
        raise Invalid(node, f"{_short(text)} has more than two decimals", "amount")
    amount = Decimal(text)
    if abs(amount) >= MAX_AMOUNT:
        raise Invalid(node, f"{_short(text)} is too large: an amount is below "
                      f"{MAX_AMOUNT:,.0f}", "amount")
    return amount


SEPARATORS_HINT = "write amounts without thousands separators, with a dot for decimals"
# 1.220 · 1.220,50 · 1,220.50 · 1'220 · 1 220,50 · 12,50: thousands grouped by a dot, a comma,
# an apostrophe or a space, and a decimal comma or dot after them.
_GROUPED = re.compile(r"[+-]?(?P<int>\d{1,3}(?:(?P<sep>[.,' ])\d{3})(?:(?P=sep)\d{3})*)"
                      r"(?:(?P<dec>[.,])(?P<cents>\d{1,2}))?")
_DECIMAL_COMMA = re.compile(r"[+-]?(?P<int>\d+),(?P<cents>\d{1,2})")


def separated_amount(text: str) -> str | None:
    """The amount a person meant by `text` when it uses thousands separators or a decimal
    comma (`1.220,50` → `1220.50`), as it must be written; None otherwise."""
    grouped = _GROUPED.fullmatch(text)
    if grouped is not None and grouped["dec"] != grouped["sep"]:
        whole = re.sub(r"\D", "", grouped["int"])
        cents = (grouped["cents"] or "").ljust(2, "0")
    else:
        comma = _DECIMAL_COMMA.fullmatch(text)
        if comma is None:
            return None
        whole, cents = comma["int"], comma["cents"].ljust(2, "0")
    sign = "-" if text.startswith("-") else ""
    return f"{sign}{int(whole)}.{cents}"


def _or_fewer_decimals(text: str) -> str:
    """' (or 1.22 …)' for 1.220, which may be 1.22 written with one zero too many."""
    if _MONEY.fullmatch(text) and text.endswith("0"):
        return f" (or {text[:-1]}, if that is what you meant)"
    return ""


def parse_date(node: Node, text: str) -> date:
    if not _ISO_DATE.fullmatch(text):
        raise Invalid(node, f"{_short(text)!r} is not a date; write it as YYYY-MM-DD", "date")
    day = iso_date(text)
    if day is None:
        raise Invalid(node, f"{text} is not a real date", "date")
    problem = out_of_range(day)
    if problem is not None:
        raise Invalid(node, problem, "date")
    return day


def iso_date(text: str) -> date | None:
    """The date written as YYYY-MM-DD, or None."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def out_of_range(day: date) -> str | None:
    """What is wrong with a date outside FIRST_DAY … LAST_DAY, where day arithmetic is safe."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"{day} is out of range: dates run from {FIRST_DAY} to {LAST_DAY}"


def _short(text: str, limit: int = 40) -> str:
    """Text quoted in a message, cut to a readable length (a value may be megabytes long)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
