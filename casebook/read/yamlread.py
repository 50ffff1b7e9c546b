"""Reading YAML into exact values, with the line and column of every problem.

YAML is composed into nodes (libyaml's C parser when present), never constructed: no tag can
build an object, numbers keep their text so `97.10` becomes `Decimal("97.10")`, and only the
plain words `true` and `false` are booleans (YAML 1.2). Readers here turn nodes into values
(the text of an amount, a rate or a date through `read.scalars`) and record diagnostics with the
node's line and column; they never raise to their caller and never touch a file.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from casebook.diagnostics import Diagnostic, Severity, did_you_mean
from casebook.model import Pos
from casebook.read.scalars import (
    BadValue,
    parse_date,
    parse_days,
    parse_money,
    parse_percent,
    short,
)
from casebook.read.scalars import iso_date as iso_date  # re-exported: the cli and
from casebook.read.scalars import out_of_range as out_of_range  # contactlog import them here

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
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})

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
            self.error(key_node, "unknown-key", f"unknown key '{short(key)}' in {what}{hint}")
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
        return None if value is None else _parsed(node, parse_money, value.strip())

    def positive_money(self, node: Node) -> Decimal | None:
        amount = self.money(node)
        if amount is not None and amount <= 0:
            raise Invalid(node, f"the amount must be more than zero, found {amount}", "amount")
        return amount

    def percent(self, node: Node) -> Decimal | None:
        value = self.scalar(node, "a rate in percent")
        return None if value is None else _parsed(node, parse_percent, value)

    def date(self, node: Node) -> date | None:
        value = self.scalar(node, "a date")
        return None if value is None else _parsed(node, parse_date, value.strip())

    def integer(self, node: Node) -> int | None:
        value = self.scalar(node, "a whole number")
        return None if value is None else _parsed(node, parse_days, value)

    def text_list(self, node: Node) -> tuple[str, ...]:
        def item(child: Node) -> str:
            value = self.text(child)
            if value is None:
                raise Invalid(child, "an empty item in a list of words")
            return value

        return self.sequence(node, item, what="this list")


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and node.value in _NULLS


def _parsed(node: Node, parse: Callable[[str], T], text: str) -> T:
    """The value `parse` reads from the node's text; what is wrong with it, at the node."""
    try:
        return parse(text)
    except BadValue as exc:
        raise Invalid(node, exc.message, exc.code) from None


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if is_null(node):
        return "nothing"
    return repr(short(node.value))
