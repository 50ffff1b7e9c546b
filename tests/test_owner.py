"""`--owner` on `next` and `export`, and the site's calendar per owner (`actions-<owner>.ics`)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.site.outputs import owner_calendar_names
from tests.conftest import ROOT

DAY = "2026-11-20"
OWNERS = ("giulia", "luca", "marta")
HINT = ("Error: Invalid value for '--owner': no case has owner 'lucaa' (did you mean 'luca'?); "
        "the owners: giulia, luca, marta")


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", DAY, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout_bytes.decode(), result.stderr


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A copy of the demo casebook, with its invoices."""
    target = tmp_path / "demo"
    target.mkdir()
    shutil.copy(ROOT / "casebook.yml", target / "casebook.yml")
    shutil.copytree(ROOT / "cases", target / "cases")
    shutil.copytree(ROOT / "invoices", target / "invoices")
    return target


def set_owner(book: Path, case: str, owner: str | None) -> None:
    """Give `case` another owner, or none."""
    path = book / "cases" / f"{case}.md"
    text = path.read_text(encoding="utf-8")
    assert re.search(r"(?m)^owner: .*\n", text), case
    new = "" if owner is None else f"owner: {owner}\n"
    path.write_text(re.sub(r"(?m)^owner: .*\n", lambda _: new, text, count=1), encoding="utf-8")


def owners_of(book: Path) -> dict[str, str | None]:
    """Every case → its owner, as the full JSON export says."""
    code, out, _ = run(book, "export", "--format", "json")
    assert code == 0
    return {r["case"]: r["owner"] for r in json.loads(out)}


# -- ics helpers ---------------------------------------------------------------------------

EVENT = re.compile(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", re.S)


def events(ics: bytes) -> list[bytes]:
    return EVENT.findall(ics)


def frame(ics: bytes) -> bytes:
    """The calendar without its events."""
    return EVENT.sub(b"", ics)


def uid(event: bytes) -> str:
    found = re.search(rb"\r\nUID:([^\r]+)\r\n", event)
    assert found, event
    return found.group(1).decode()


def case_of(event: bytes, cases: list[str]) -> str:
    """The case whose event it is: its UID is `<case, / as .>.<action>@casebook`."""
    stem = uid(event).removesuffix("@casebook").rsplit(".", 1)[0]
    matches = [c for c in cases if c.replace("/", ".") == stem]
    assert len(matches) == 1, (uid(event), matches)
    return matches[0]


def is_calendar(ics: bytes) -> None:
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")
    assert ics.endswith(b"END:VCALENDAR\r\n")
    assert ics.count(b"BEGIN:VEVENT") == ics.count(b"END:VEVENT")


# -- next --owner --------------------------------------------------------------------------


def table_cases(out: str) -> list[str]:
    """The case column of `next`'s table (the rows, not their indented reasons)."""
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["DUE", "CASE"]
    return [line.split()[1] for line in lines[1:] if line and not line[0].isspace()]


@pytest.mark.parametrize("owner", OWNERS)
def test_next_json_lists_only_that_owners_cases(book: Path, owner: str) -> None:
    owners = owners_of(book)
    code, out, _ = run(book, "next", "--json")
    assert code == 0
    every = json.loads(out)
    code, out, err = run(book, "next", "--json", "--owner", owner)
    assert code == 0, err
    mine = json.loads(out)
    expected = [r for r in every if owners[r["case"]] == owner]
    assert mine == expected  # the same objects, in the same (urgency) order
    assert mine and len(mine) < len(every)
    assert all("owner" not in r for r in mine)  # the SPEC's objects, unchanged


@pytest.mark.parametrize("owner", OWNERS)
def test_next_table_lists_only_that_owners_cases(book: Path, owner: str) -> None:
    owners = owners_of(book)
    code, out, _ = run(book, "next")
    assert code == 0
    every = table_cases(out)
    code, out, err = run(book, "next", "--owner", owner)
    assert code == 0, err
    mine = table_cases(out)
    assert mine == [c for c in every if owners[c] == owner]
    assert mine and len(mine) < len(every)


def test_next_all_with_owner_includes_closed_cases(book: Path) -> None:
    code, out, _ = run(book, "next", "--json", "--all", "--owner", "giulia")
    assert code == 0
    cases = [r["case"] for r in json.loads(out)]
    assert "archivio/bianchi-arredamenti" in cases  # giulia's closed case
    assert all(owners_of(book)[c] == "giulia" for c in cases)


# -- export --owner ------------------------------------------------------------------------


@pytest.mark.parametrize("owner", OWNERS)
def test_export_json_owner(book: Path, owner: str) -> None:
    code, out, _ = run(book, "export", "--format", "json")
    every = json.loads(out)
    code, out, err = run(book, "export", "--format", "json", "--owner", owner)
    assert code == 0, err
    mine = json.loads(out)
    assert mine == [r for r in every if r["owner"] == owner]
    assert mine and len(mine) < len(every)


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("dialect", ["standard", "excel-it"])
def test_export_csv_owner(book: Path, owner: str, dialect: str) -> None:
    def table(out: str) -> list[list[str]]:
        delimiter = ";" if dialect == "excel-it" else ","
        return list(csv.reader(io.StringIO(out.lstrip("\ufeff")), delimiter=delimiter))

    code, out, _ = run(book, "export", "--format", "csv", "--dialect", dialect)
    assert code == 0
    header, *every = table(out)
    code, mine_out, err = run(book, "export", "--format", "csv", "--dialect", dialect,
                              "--owner", owner)
    assert code == 0, err
    assert mine_out.startswith("\ufeff") == out.startswith("\ufeff")
    mine_header, *mine = table(mine_out)
    assert mine_header == header
    at = header.index("owner")
    assert mine == [r for r in every if r[at] == owner]
    assert mine and len(mine) < len(every)


@pytest.mark.parametrize("owner", OWNERS)
def test_export_ics_owner(book: Path, owner: str) -> None:
    owners = owners_of(book)
    cases = list(owners)
    code, out, _ = run(book, "export", "--format", "ics")
    assert code == 0
    whole = out.encode()
    code, out, err = run(book, "export", "--format", "ics", "--owner", owner)
    assert code == 0, err
    mine = out.encode()
    is_calendar(mine)
    assert frame(mine) == frame(whole)
    expected = [e for e in events(whole) if owners[case_of(e, cases)] == owner]
    assert events(mine) == expected
    assert expected and len(expected) < len(events(whole))


# -- unknown and closed-only owners, and build ---------------------------------------------


@pytest.mark.parametrize("args", [
    ("next",), ("next", "--json"), ("next", "--all"),
    ("export", "--format", "json"), ("export", "--format", "csv"), ("export", "--format", "ics"),
])
def test_an_unknown_owner_is_a_usage_error_with_a_hint(book: Path, args: tuple[str, ...]) -> None:
    code, out, err = run(book, *args, "--owner", "lucaa")
    assert code == 2
    assert out == ""
    assert HINT in err


def test_an_unknown_owner_without_a_near_name(book: Path) -> None:
    code, out, err = run(book, "next", "--owner", "zeno")
    assert code == 2 and out == ""
    assert "no case has owner 'zeno'" in err
    assert "did you mean" not in err
    assert "the owners: giulia, luca, marta" in err


def test_an_owner_of_only_closed_cases_is_known_and_has_nothing_next(book: Path) -> None:
    set_owner(book, "archivio/bianchi-arredamenti", "sara")  # the demo's one closed case
    code, out, err = run(book, "next", "--owner", "sara")
    assert code == 0, err
    assert out.strip() == "Nothing to do."
    code, out, err = run(book, "next", "--json", "--owner", "sara")
    assert code == 0, err
    assert json.loads(out) == []
    # a closed case's owner counts among the owners of the hint too
    code, _, err = run(book, "next", "--owner", "sarah")
    assert code == 2
    assert "(did you mean 'sara'?)" in err and "the owners: giulia, luca, marta, sara" in err
    # the export has the closed case
    code, out, _ = run(book, "export", "--format", "json", "--owner", "sara")
    assert code == 0
    assert [r["case"] for r in json.loads(out)] == ["archivio/bianchi-arredamenti"]


def test_build_has_no_owner_option(book: Path) -> None:
    code, _, err = run(book, "build", "--owner", "luca")
    assert code == 2
    assert "No such option" in err and "--owner" in err
    assert not (book / "site").exists()


# -- the site's calendar per owner ---------------------------------------------------------


def build(book: Path, *args: str) -> Path:
    code, _, err = run(book, "build", *args)
    assert code == 0, err
    return book / "site" if not args else Path(args[-1])


def calendars(site: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(site.glob("actions*.ics"))}


def check_owner_calendars(book: Path, site: Path) -> dict[str, bytes]:
    """Every event of actions.ics is in its case's owner's file, and only there (or in none
    for a case without an owner); each owner file is actions.ics's events of that owner."""
    owners = owners_of(book)
    cases = list(owners)
    files = calendars(site)
    whole = files.pop("actions.ics")
    is_calendar(whole)
    names = owner_calendar_names({o for o in owners.values() if o})
    assert set(files) == set(names.values())
    by_file = {name: owner for owner, name in names.items()}
    for name, ics in files.items():
        is_calendar(ics)
        assert frame(ics) == frame(whole)
        owner = by_file[name]
        assert events(ics) == [e for e in events(whole) if owners[case_of(e, cases)] == owner]
    for event in events(whole):
        holders = [n for n, ics in files.items() if event in events(ics)]
        owner = owners[case_of(event, cases)]
        assert holders == ([] if owner is None else [names[owner]]), uid(event)
    return files


def test_build_writes_one_calendar_per_owner(book: Path) -> None:
    site = build(book)
    files = check_owner_calendars(book, site)
    assert set(files) == {f"actions-{o}.ics" for o in OWNERS}
    whole = (site / "actions.ics").read_bytes()
    assert sum(len(events(ics)) for ics in files.values()) == len(events(whole)) > 0
    # the events are the same bytes as `export --owner --format ics`'s
    for owner in OWNERS:
        code, out, _ = run(book, "export", "--format", "ics", "--owner", owner)
        assert code == 0
        assert sorted(events(out.encode())) == sorted(events(files[f"actions-{owner}.ics"]))


def test_building_twice_gives_the_same_bytes(book: Path, tmp_path: Path) -> None:
    first = calendars(build(book))
    again = calendars(build(book))
    assert again == first
    elsewhere = calendars(build(book, "--out", str(tmp_path / "other")))
    assert elsewhere == first
    assert len(first) == 4


def test_a_case_without_an_owner_is_in_no_owner_calendar(book: Path) -> None:
    set_owner(book, "il-portico", None)
    site = build(book)
    files = check_owner_calendars(book, site)
    whole = (site / "actions.ics").read_bytes()
    portico = [e for e in events(whole) if uid(e).startswith("il-portico.")]
    assert len(portico) == 1
    assert not any(portico[0] in ics for ics in files.values())
    assert sum(len(events(ics)) for ics in files.values()) == len(events(whole)) - 1


def test_an_owner_who_leaves_takes_their_calendar_along(book: Path) -> None:
    build(book)
    for case in ("2026/panificio-locatelli", "albergo-lago-blu", "caseificio-valle-imagna",
                 "gelateria-donizetti", "il-portico", "lavanderia-orobica", "mobilificio-carrara"):
        set_owner(book, case, "luca")  # marta's cases, every one
    site = build(book)
    assert not (site / "actions-marta.ics").exists()
    check_owner_calendars(book, site)


def test_clashing_owner_slugs_get_distinct_files(book: Path) -> None:
    names = owner_calendar_names(["Luca Rossi", "luca-rossi", "marta", "Màrta Bianchi"])
    assert names["marta"] == "actions-marta.ics"
    assert names["Màrta Bianchi"] == "actions-marta-bianchi.ics"
    clash = [names["Luca Rossi"], names["luca-rossi"]]
    assert len(set(clash)) == 2
    for name in clash:
        assert re.fullmatch(r"actions-luca-rossi-[0-9a-f]{8}\.ics", name), name
    # the names do not depend on the order of the owners
    assert owner_calendar_names(["luca-rossi", "marta", "Màrta Bianchi", "Luca Rossi"]) == names
    for name in names.values():
        assert re.fullmatch(r"actions-[a-z0-9-]+\.ics", name)

    # and in a built site
    set_owner(book, "il-portico", "Luca Rossi")
    set_owner(book, "edil-moretti", "luca-rossi")
    site = build(book)
    files = check_owner_calendars(book, site)
    rossi = sorted(n for n in files if n.startswith("actions-luca-rossi"))
    assert rossi == sorted(clash)
    assert events(files[names["Luca Rossi"]])
    assert all(uid(e).startswith("il-portico.") for e in events(files[names["Luca Rossi"]]))
    assert all(uid(e).startswith("edil-moretti.") for e in events(files[names["luca-rossi"]]))
