"""Every fact of a case file is taught to each consumer: history, the export and the reader.

The classes are found from the model (`Case` and every dataclass it holds), so a field or a class
added there is checked here without being named here. Each failure names the consumer to teach
and the table to add the field to.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from casebook.history import diff
from casebook.model import Case, Pos
from casebook.read import casefile
from casebook.read.config import read_config
from casebook.site import formats

TODAY = date(2026, 11, 20)


def held(hint: Any) -> type | None:
    """The model class a field holds, alone, optional or in a tuple."""
    for candidate in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(candidate) and isinstance(candidate, type):
            return candidate
    return None


def case_classes() -> list[type]:
    """`Case` and every model class it holds, at any depth; `Pos` is a place, not a fact."""
    found: list[type] = []
    waiting: list[type] = [Case]
    while waiting:
        cls = waiting.pop(0)
        if cls in found or cls is Pos:
            continue
        found.append(cls)
        hints = typing.get_type_hints(cls)
        waiting += [c for f in dataclasses.fields(cls) if (c := held(hints[f.name])) is not None]
    return found


FIELDS = [f"{cls.__name__}.{f.name}" for cls in case_classes() for f in dataclasses.fields(cls)]


def listed(table: typing.Collection[str], field: str) -> bool:
    """`Class.name` is in the table, itself or as `*.name` (that field of every class)."""
    return field in table or "*." + field.split(".")[1] in table


def test_the_model_is_found() -> None:
    names = {cls.__name__ for cls in case_classes()}
    assert {"Case", "Debtor", "Invoice", "Payment", "Dispute", "Promise", "Plan", "Instalment",
            "Hold", "Closed", "LogEntry"} <= names


# -- history: a change to any fact shows in `casebook history` ---------------------------------


def example(hint: Any, variant: int) -> Any:
    """A value of the type `hint`; variants 0 and 1 differ."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: example(hints[f.name], variant) for f in dataclasses.fields(hint)})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return args[variant % len(args)]
    if origin is types.UnionType:
        return example(next(a for a in args if a is not type(None)), variant)
    if origin is tuple:
        return (example(args[0], variant),)
    makers: dict[Any, Any] = {
        str: lambda: f"text {variant}", int: lambda: variant + 1, bool: lambda: bool(variant),
        Decimal: lambda: Decimal(100 + variant), date: lambda: date(2026, 1, 1 + variant),
    }
    if hint not in makers:
        pytest.fail(f"test_model_fields has no example of {hint!r}: teach `example` one")
    return makers[hint]()


def varied(value: Any, field: str) -> Any:
    """`value` with `field` (`Class.name`) at variant 1 wherever that class occurs in it."""
    if isinstance(value, tuple):
        return tuple(varied(v, field) for v in value)
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return value
    owner, name = field.split(".")
    changes = {f.name: varied(getattr(value, f.name), field) for f in dataclasses.fields(value)}
    if type(value).__name__ == owner:
        changes[name] = example(typing.get_type_hints(type(value))[name], 1)
    return dataclasses.replace(value, **changes)


@pytest.mark.parametrize("field", [f for f in FIELDS if not listed(diff.NOT_COMPARED, f)])
def test_history_shows_a_change_to_every_field(field: str) -> None:
    before = example(Case, 0)
    after = varied(before, field)
    assert after != before
    assert diff.diff_cases(before, after), (
        f"casebook history shows no change when only {field} changes: compare it in "
        "casebook/history/diff.py, or add it to NOT_COMPARED with the reason")


def test_history_names_every_section_of_items() -> None:
    plain = [f"Case.{fact.section}" for fact in diff.FACTS
             if fact.section not in diff.PRESENTATIONS]
    assert not plain, (f"casebook history shows {', '.join(plain)} only field by field: "
                       "give each a Presentation in casebook/history/diff.py PRESENTATIONS")


def test_history_exclusions_name_real_fields() -> None:
    stale = [f for f in diff.NOT_COMPARED if not f.startswith("*.") and f not in FIELDS]
    assert not stale, f"history's NOT_COMPARED names fields the model does not have: {stale}"


# -- the export: every fact exported, or left out on purpose -----------------------------------


def test_the_export_accounts_for_every_field() -> None:
    missing = [f for f in FIELDS
               if not listed(formats.EXPORTED, f) and not listed(formats.NOT_EXPORTED, f)]
    assert not missing, (
        f"the export does not say what it does with {', '.join(missing)}: add each to EXPORTED "
        "(with its column or JSON key) or NOT_EXPORTED (with the reason) in "
        "casebook/site/formats.py")
    both = [f for f in FIELDS if listed(formats.EXPORTED, f) and listed(formats.NOT_EXPORTED, f)]
    assert not both, f"casebook/site/formats.py both exports and leaves out {both}"


def test_the_export_tables_name_real_fields_and_keys() -> None:
    tables = [*formats.EXPORTED, *formats.NOT_EXPORTED]
    stale = [f for f in tables if not f.startswith("*.") and f not in FIELDS]
    assert not stale, f"casebook/site/formats.py names fields the model does not have: {stale}"
    case = dataclasses.replace(example(Case, 0), credits=())  # a credit of 100 would cancel it
    row = formats.export_row(case, read_config(None).config, TODAY)
    for field, keys in formats.EXPORTED.items():
        for key in keys.split(", "):
            inside, _, item_key = key.partition("[].")
            found = item_key in row[inside][0] if item_key else key in row
            assert found, f"EXPORTED says {field} is exported as {key!r}, which the row lacks"


# -- the reader: every fact read from a key of the front matter, or derived ---------------------


def test_the_reader_accounts_for_every_field() -> None:
    keys = casefile.front_matter_keys(read_config(None).config)
    missing = [f for f in FIELDS if not listed(casefile.NOT_KEYS, f)
               and f.split(".")[1] not in keys.get(_model_class(f), ())]
    assert not missing, (
        f"a case file cannot hold {', '.join(missing)}: read a key of the same name in "
        "casebook/read/casefile.py (`SCHEMA`), or add it to NOT_KEYS saying where "
        "it comes from")


def test_the_reader_reads_only_fields() -> None:
    keys = casefile.front_matter_keys(read_config(None).config)
    extra = [f"{cls.__name__}.{key}" for cls, names in keys.items() for key in names
             if f"{cls.__name__}.{key}" not in FIELDS]
    assert not extra, f"casebook/read/casefile.py reads keys for no field: {extra}"
    stale = [f for f in casefile.NOT_KEYS if not f.startswith("*.") and f not in FIELDS]
    assert not stale, f"casefile's NOT_KEYS names fields the model does not have: {stale}"


def _model_class(field: str) -> type:
    return next(cls for cls in case_classes() if cls.__name__ == field.split(".")[0])
