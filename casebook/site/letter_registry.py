"""The registry of letters, casebook/data/letters.yml, read strictly once per process (SPEC 7).

Owns reading letters.yml into `LetterRule`s: each letter's kind, days to pay, the invoices it is
about, and the names of the conditions under which a case may have it and the site offers it.
Every name is checked at load against the tables of `letter_rules`, so a misspelt condition fails
with its file:line:col, never later at a case. Whether a condition holds is decided there, not
here; nothing here renders a template or reads the clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from yaml.nodes import Node

from casebook.diagnostics import did_you_mean
from casebook.read.datafiles import read_data
from casebook.read.yamlread import Invalid, Reader
from casebook.site.letter_rules import FITS, INVOICES, OFFERED

KINDS = ("step", "dossier", "extra")
NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
FIELDS = ("name", "kind", "days", "invoices", "fits", "offered")
OWN_FIELDS = ("days", "invoices", "fits", "fits-as-step")


@dataclass(frozen=True, kw_only=True)
class LetterRule:
    """One letter: what it is, how long it gives to pay, what it is about, and the names of the
    conditions under which a case may have it (`fits`) and the site offers it (`offered`)."""

    name: str
    kind: str  # step | dossier | extra | own
    days: int
    invoices: str
    fits: tuple[str, ...]
    offered: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class OwnLetters:
    """The rule of a letter of the casebook's own templates, which letters.yml does not list."""

    days: int
    invoices: str
    fits: tuple[str, ...]
    fits_as_step: tuple[str, ...]  # when a step of the ladder names it: it asks for payment

    def rule(self, name: str, *, step: bool) -> LetterRule:
        return LetterRule(name=name, kind="own", days=self.days, invoices=self.invoices,
                          fits=self.fits_as_step if step else self.fits,
                          offered=("next-action",))


@dataclass(frozen=True, kw_only=True)
class Registry:
    letters: tuple[LetterRule, ...]  # in the order the site offers them
    own: OwnLetters

    def named(self, name: str) -> LetterRule | None:
        return next((rule for rule in self.letters if rule.name == name), None)

    def of_kind(self, *kinds: str) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.letters if rule.kind in kinds)


@functools.cache
def registry() -> Registry:
    """The letters shipped in casebook/data/letters.yml; raises DataFileError on any problem."""
    return read_data("letters.yml", read_registry)


def read_registry(reader: Reader, node: Node) -> Registry | None:
    first: dict[str, Node] = {}

    def letters(child: Node) -> tuple[LetterRule, ...]:
        return reader.sequence(child, lambda item: _letter(reader, item, first), what="letters")

    fields = reader.mapping(node, {"letters": letters, "own": lambda child: _own(reader, child)},
                            what="letters.yml", required=("letters", "own"))
    if fields is None:
        return None
    dossiers = [rule.name for rule in fields["letters"] if rule.kind == "dossier"]
    if len(dossiers) != 1:
        reader.error(fields.where("letters"), "value",
                     f"letters.yml must list one letter of kind dossier, found {len(dossiers)}")
        return None
    return Registry(letters=fields["letters"], own=fields["own"])


def _letter(reader: Reader, node: Node, first: dict[str, Node]) -> LetterRule | None:
    fields = reader.mapping(node, {
        "name": lambda child: _name(reader, child, first),
        "kind": _choice(reader, KINDS, "kind"),
        "days": reader.integer,
        "invoices": _choice(reader, INVOICES, "invoices"),
        "fits": _conditions(reader, FITS, "fits"),
        "offered": _conditions(reader, OFFERED, "offered"),
    }, what="a letter", required=FIELDS)
    if fields is None:
        return None
    return LetterRule(name=fields["name"], kind=fields["kind"], days=fields["days"],
                      invoices=fields["invoices"], fits=fields["fits"],
                      offered=fields["offered"])


def _own(reader: Reader, node: Node) -> OwnLetters | None:
    fields = reader.mapping(node, {
        "days": reader.integer,
        "invoices": _choice(reader, INVOICES, "invoices"),
        "fits": _conditions(reader, FITS, "fits"),
        "fits-as-step": _conditions(reader, FITS, "fits-as-step"),
    }, what="own", required=OWN_FIELDS)
    if fields is None:
        return None
    return OwnLetters(days=fields["days"], invoices=fields["invoices"], fits=fields["fits"],
                      fits_as_step=fields["fits-as-step"])


def _name(reader: Reader, node: Node, first: dict[str, Node]) -> str | None:
    name = reader.text(node)
    if name is None:
        return None
    if not NAME.fullmatch(name):
        raise Invalid(node, f"{name!r} is no letter name: lowercase words joined by '-'")
    if name in first:
        line = reader.pos(first[name]).line
        raise Invalid(node, f"the letter '{name}' is listed twice (first at line {line})",
                      "duplicate-letter")
    first[name] = node
    return name


def _choice(reader: Reader, choices: Collection[str], what: str) -> Callable[[Node], str | None]:
    def read(node: Node) -> str | None:
        word = reader.text(node)
        if word is not None and word not in choices:
            raise Invalid(node, f"unknown {what} '{word}'{did_you_mean(word, choices)}; "
                          f"one of: {', '.join(choices)}", "unknown-value")
        return word

    return read


def _conditions(reader: Reader, table: Collection[str],
                what: str) -> Callable[[Node], tuple[str, ...]]:
    def condition(node: Node) -> str:
        word = reader.text(node)
        if word is None:
            raise Invalid(node, f"an empty condition in {what}")
        if word not in table:
            raise Invalid(node, f"unknown condition '{word}' in {what}"
                          f"{did_you_mean(word, table)}; one of: {', '.join(table)}",
                          "unknown-condition")
        return word

    return lambda node: reader.sequence(node, condition, what=what)
