"""Hostile files: each one is refused or contained with a clear message, never a traceback.

Alias bombs, absurd nesting, huge files, links out of the casebook, odd file names and
templates that try to read outside their folders or reach Python's internals.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.load.loader import load
from tests.test_validate import GOOD

DAY = "2026-11-20"
SECRET = "hunter2-outside-the-casebook"
BOMB = """---
debtor: {name: x}
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
tags: *i
---
"""


def run(root: Path, *args: str) -> tuple[int, str]:
    """exit code and everything printed; an uncaught exception fails the test."""
    started = time.monotonic()
    result = CliRunner().invoke(main, ["-C", str(root), "--today", DAY, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert time.monotonic() - started < 10, args
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    (root / "cases").mkdir(parents=True)
    (root / "casebook.yml").write_text("locale: en\n")
    (root / "cases" / "rossi.md").write_text(GOOD)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file and a folder outside the casebook, holding text that must never be shown."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    text = GOOD.replace("name: Rossi S.r.l.", f"name: x\n  {SECRET}: 1")
    (folder / "secret.md").write_text(text.replace('"2026/1"', '"X/1"'))
    return folder


def every_command_refuses(root: Path, expected: str, case: str = "rossi") -> None:
    for args in (["validate"], ["next"], ["show", case], ["export"], ["build"]):
        code, said = run(root, *args)
        assert code == 1 and expected in said, (args, said)


# -- YAML ------------------------------------------------------------------------------------


def test_alias_bomb_is_refused_at_its_first_alias(book: Path) -> None:
    (book / "cases" / "bomb.md").write_text(BOMB)
    code, said = run(book, "validate")
    assert code == 1
    assert "cases/bomb.md:3:1: error: unknown key 'a' in the front matter" in said
    # the alias reaches a node read already: refused where that node stands, never expanded
    assert "cases/bomb.md:10:4: error: anchors and aliases (&name, *name) are not allowed" in said
    (book / "casebook.yml").write_text(BOMB.strip("-\n").replace("debtor", "creditor"))
    code, said = run(book, "validate")
    assert code == 1 and "casebook.yml:2:1: error: unknown key 'a' in casebook.yml" in said


@pytest.mark.parametrize(("nesting", "expected"), [
    ("tags: " + "[" * 100_000 + "]" * 100_000, "cases/deep.md:3:107: error: YAML nested more "
                                                "than 100 levels deep"),
    ("tags: " + "{a: " * 100_000, "YAML nested more than 100 levels deep"),
    ("tags:\n" + "".join(" " * i + "a:\n" for i in range(1, 1200)),  # under 1 MB of spaces
     "error: YAML syntax: exceeded maximum nesting depth"),
    ("tags:\n" + "- " * 10_000 + "x",
     "cases/deep.md:4:1999: error: YAML syntax: exceeded maximum nesting depth"),
])
def test_deep_nesting_is_a_syntax_error(book: Path, nesting: str, expected: str) -> None:
    (book / "cases" / "deep.md").write_text(f"---\ndebtor: {{name: x}}\n{nesting}\n---\n")
    code, said = run(book, "validate")
    assert code == 1 and expected in said, said[-500:]
    (book / "casebook.yml").write_text(nesting.replace("tags", "locale") + "\n")
    code, said = run(book, "next")
    assert code == 1 and "casebook.yml:" in said and "error: YAML" in said


def test_numbers_and_dates_out_of_range_are_diagnostics(book: Path) -> None:
    text = (GOOD.replace("1220.00", "1" + "0" * 5000)
            .replace("date: 2026-07-01", "date: 0001-01-01")
            .replace("## 2026-09-01", "## 9999-12-31"))
    (book / "cases" / "rossi.md").write_text(text)
    code, said = run(book, "validate")
    assert code == 1
    assert "rossi.md:8:13: error: 1000000000000000000000000000000000000000… (5,001 characters)" \
           " is too large: an amount is below 1,000,000,000,000" in said
    assert "rossi.md:6:11: error: 0001-01-01 is out of range: dates run from 1900-01-01 to " \
           "2999-12-31" in said
    assert "rossi.md:10:4: error: log heading date 9999-12-31 is out of range" in said
    (book / "casebook.yml").write_text(
        "policy: {min_gap: " + "9" * 5000 + "}\ninterest:\n  commercial_rates:\n"
        "    - {from: 2026-07-01, rate: 1" + "0" * 3000 + "}\n")
    code, said = run(book, "validate")
    assert "casebook.yml:1:19: error: 9999" in said and "is too large: at most 36,500" in said
    assert "casebook.yml:4:32: error:" in said and "is not a plausible rate" in said
    assert run(book, "--today", "9999-12-31", "build")[0] == 2  # a usage error, as any bad day


def test_thousands_of_payments_take_linear_time(book: Path) -> None:
    """Every payment once recomputed the interest of every invoice: 400 of each took 30 s."""
    count = 1500
    invoices = "".join(f'  - {{number: "N{i}", date: 2015-01-01, due: 2015-01-31, '
                       'amount: 1000.00}\n' for i in range(count))
    payments = "".join(f"  - {{date: 2020-{1 + i % 12:02d}-{1 + i % 28:02d}, amount: 0.50}}\n"
                       for i in range(count))
    (book / "cases" / "rossi.md").write_text(
        f"---\ndebtor: {{name: x}}\ninvoices:\n{invoices}payments:\n{payments}---\n")
    started = time.monotonic()
    code, said = run(book, "export")
    assert code == 0 and time.monotonic() - started < 5, said[-300:]


# -- big files -------------------------------------------------------------------------------


def test_a_50_mb_case_file_is_refused_unread(book: Path) -> None:
    with (book / "cases" / "huge.md").open("wb") as handle:
        handle.truncate(50 << 20)  # sparse: costs no disk
    tracemalloc.start()
    started = time.monotonic()
    casebook = load(book, use_cache=False)
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1 and peak < 5 << 20, (elapsed, peak)
    assert [d.format() for d in casebook.diagnostics] == [
        "cases/huge.md:1:1: error: the file is 52,428,800 bytes; a case file may be at most "
        "1,048,576 bytes (move old history to a separate file)"]
    every_command_refuses(book, "cases/huge.md:1:1: error: the file is 52,428,800 bytes", "huge")


def test_a_50_mb_casebook_yml_is_refused_unread(book: Path) -> None:
    with (book / "casebook.yml").open("wb") as handle:
        handle.truncate(50 << 20)
    code, said = run(book, "validate")
    assert code == 1
    assert "casebook.yml:1:1: error: the file is 52,428,800 bytes; casebook.yml may be" in said


# -- links and special files in cases/ ---------------------------------------------------------


def test_a_link_to_a_file_outside_is_refused_and_never_read(book: Path, outside: Path) -> None:
    (book / "cases" / "secret.md").symlink_to(outside / "secret.md")
    for args in (["validate"], ["next"], ["export"], ["build", "--keep-going"]):
        code, said = run(book, *args)
        assert code == 1, args
        assert "cases/secret.md:1:1: error: the file is a link to a place outside the casebook" \
               in said and SECRET not in said
    site = b"".join(p.read_bytes() for p in (book / "site").rglob("*") if p.is_file())
    assert SECRET.encode() not in site and b"cases/secret.md" in site
    code, said = run(book, "show", "secret")
    assert code == 1 and SECRET not in said


def test_a_link_to_a_folder_outside_is_refused(book: Path, outside: Path) -> None:
    (book / "cases" / "shared").symlink_to(outside, target_is_directory=True)
    code, said = run(book, "validate")
    assert code == 1 and SECRET not in said
    assert "cases/shared:1:1: error: the folder is a link to a place outside the casebook" in said


def test_a_cases_folder_that_links_outside_is_refused(book: Path, outside: Path) -> None:
    for path in (book / "cases").iterdir():
        path.unlink()
    (book / "cases").rmdir()
    (book / "cases").symlink_to(outside, target_is_directory=True)
    code, said = run(book, "validate")
    assert code == 1 and SECRET not in said
    assert "cases:1:1: error: the folder is a link to a place outside the casebook" in said


def test_links_inside_the_casebook_are_followed_and_loops_walked_once(book: Path) -> None:
    (book / "archive").mkdir()
    (book / "archive" / "old.md").write_text(GOOD.replace('"2026/1"', '"2025/7"'))
    (book / "cases" / "old.md").symlink_to(book / "archive" / "old.md")
    (book / "cases" / "loop").symlink_to(book / "cases", target_is_directory=True)
    (book / "cases" / "a-link").symlink_to(book / "cases" / "z", target_is_directory=True)
    (book / "cases" / "z").mkdir()
    (book / "cases" / "z" / "zeta.md").write_text(GOOD.replace('"2026/1"', '"Z/1"'))
    code, said = run(book, "validate")
    assert code == 0, said
    assert "cases/loop:1:1: warning: the folder is a link to a folder that is read already" in said
    assert "cases/a-link:1:1: warning: the folder is a link" in said and "cases/z:1" not in said
    assert run(book, "show", "old")[0] == 0


def test_a_pipe_named_like_a_case_is_refused_without_blocking(book: Path) -> None:
    os.mkfifo(book / "cases" / "pipe.md")
    every_command_refuses(book, "cases/pipe.md:1:1: error: not a regular file", "pipe")


def test_show_refuses_a_broken_casebook_yml(book: Path) -> None:
    (book / "casebook.yml").write_text("locale: xx\n")
    code, said = run(book, "show", "rossi")
    assert code == 1 and "casebook.yml:1:9: error: locale must be one of it, en" in said


# -- case ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("Rossi.md", "error: the case id 'Rossi' may only hold a-z, 0-9"),
    ("a..b.md", "error: the case id 'a..b' may only hold"),
    ("rössi.md", "error: the case id 'rössi' may only hold a-z"),
    ("a b.md", "error: the case id 'a b' may only hold a-z"),
    ("x" * 250 + ".md", "error: the case id is 250 characters long; at most 200"),
    ("con.md", "warning: the case id 'con' holds a name Windows reserves"),
    ("2026/lpt1.md", "warning: the case id '2026/lpt1' holds a name Windows reserves"),
])
def test_odd_file_names_get_a_diagnostic(book: Path, name: str, expected: str) -> None:
    path = book / "cases" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GOOD.replace('"2026/1"', '"N/1"'))
    code, said = run(book, "validate")
    assert f"cases/{name}:1:1: {expected}" in said, said
    code, said = run(book, "build", "--keep-going")
    assert code in (0, 1) and "built" in said
    site = book / "site"
    assert all(p.resolve().is_relative_to(site.resolve()) for p in site.rglob("*"))


def test_folders_nested_too_deep_are_refused(book: Path) -> None:
    folder = book / "cases"
    for _ in range(150):  # 300 characters of path: ids would pass the limit
        folder = folder / "a"
    folder.mkdir(parents=True)
    (folder / "deep.md").write_text(GOOD)
    code, said = run(book, "validate")
    assert code == 1 and "error: folders nested this deep give case ids longer than" in said


@pytest.mark.parametrize("case", ["../../etc/passwd", "/etc/passwd", "cases/../casebook",
                                  "rossi/../../x", ""])
def test_case_names_on_the_command_line_stay_in_cases(book: Path, case: str) -> None:
    code, said = run(book, "show", case)
    assert code == 1 and "no case" in said
    code, said = run(book, "letter", case)
    assert code == 1 and "no case" in said


# -- templates -------------------------------------------------------------------------------


def override(root: Path, text: str, name: str = "case.html") -> None:
    path = root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def build_refuses(root: Path, expected: str) -> str:
    before = sorted(p.name for p in root.iterdir())
    code, said = run(root, "build")
    cache = root / ".casebook-cache"  # what was read (the history, say) may be kept; no page
    if cache.is_dir() and ".casebook-cache" not in before:
        assert not [p for p in cache.rglob("*.html")]
        before.append(".casebook-cache")
        before.sort()
    assert code == 1 and "Error: template error:" in said and expected in said, said
    assert "root:" not in said and "Traceback" not in said
    assert sorted(p.name for p in root.iterdir()) == before  # no site/ was written
    return said


@pytest.mark.parametrize(("template", "expected"), [
    ('{% include "../../../../../../etc/passwd" %}', "../../../../../../etc/passwd"),
    ('{% include "/etc/passwd" %}', "/etc/passwd"),
    ('{% import "../casebook.yml" as c %}', "../casebook.yml"),
    ('{% extends "shipped/../../../../etc/passwd" %}', "etc/passwd"),
    ('{% from "/etc/passwd" import x %}', "/etc/passwd"),
])
def test_templates_cannot_name_files_outside_their_folders(book: Path, template: str,
                                                           expected: str) -> None:
    override(book, template)
    build_refuses(book, expected)


def test_a_template_that_links_outside_is_not_read(book: Path, outside: Path) -> None:
    (book / "templates").mkdir()
    (book / "templates" / "case.html").symlink_to(outside / "secret.md")
    said = build_refuses(book, "templates/case.html: template 'case.html' is a link to a file "
                               "outside")
    assert SECRET not in said
    (book / "templates" / "case.html").unlink()
    (book / "templates" / "evil.html").symlink_to("/etc/passwd")
    override(book, '{% include "evil.html" %}')
    build_refuses(book, "'evil.html' is a link to a file outside")


def test_a_templates_folder_that_links_outside_is_ignored(book: Path, outside: Path) -> None:
    (outside / "case.html").write_text(SECRET)
    (book / "templates").symlink_to(outside, target_is_directory=True)
    code, said = run(book, "build")
    assert code == 0, said
    assert "templates:1:1: warning: the templates folder is a link to a place outside" in said
    assert SECRET not in (book / "site" / "cases" / "rossi.html").read_text()


def test_an_asset_that_links_outside_is_not_published(book: Path, outside: Path) -> None:
    (book / "templates" / "assets").mkdir(parents=True)
    (book / "templates" / "assets" / "leak.css").symlink_to(outside / "secret.md")
    run(book, "build")
    assert not (book / "site" / "assets" / "leak.css").exists()


@pytest.mark.parametrize("escape", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ (''|attr('__class__')) }}",
    "{{ '{0.__class__.__mro__}'.format(case) }}",
    "{{ case.__class__.__init__.__globals__ }}",
    "{{ case.debtor.__class__ }}",
    "{{ t.__self__.__class__ }}",
    "{{ today.__class__.__mro__ }}",
    "{% set x = [].__class__ %}{{ x }}",
    "{% for x in [1] %}{{ loop.__class__.__init__.__globals__ }}{% endfor %}",
    "{% for x in [1] %}{{ loop._iterator }}{% endfor %}",
    "{% import 'letters/it/_text_macros.txt' as m %}{{ m.__class__.__init__.__globals__ }}",
    "{% import 'letters/it/_text_macros.txt' as m %}{{ m.sign.__globals__ }}",
    "\n\n{{ 1 / 0 }}",
])
def test_templates_cannot_reach_python_internals(book: Path, escape: str) -> None:
    override(book, escape)
    build_refuses(book, f"templates/case.html:{escape.count(chr(10)) + 1}: ")


@pytest.mark.parametrize("template", [
    "{{ case.no_such_field }}",
    "{{ case.debtor.no_such_field.deeper }}",
    "{% for i in case.invoices %}{{ i.no_such_field }}{% endfor %}",
    "{{ case.id.no_such_method() }}",
])
def test_a_template_reading_what_is_not_there_gets_a_template_error(book: Path,
                                                                    template: str) -> None:
    """Attributes of plain data are read inline (`the sandbox`): one that is not
    there still ends as Jinja's undefined value, a one-line error at the template's line."""
    override(book, "\n" + template)
    said = build_refuses(book, "templates/case.html:2: ")
    assert "no_such" in said


def test_case_data_is_never_run_as_a_template(book: Path) -> None:
    payload = "{{ 7 * 7 }}{% include '/etc/passwd' %}{{ ''.__class__ }}"
    (book / "cases" / "rossi.md").write_text(
        GOOD.replace("name: Rossi S.r.l.", f'name: "{payload}"') + f"\n{payload}\n")
    code, said = run(book, "build")
    assert code == 0, said
    page = (book / "site" / "cases" / "rossi.html").read_text()
    assert "{{ 7 * 7 }}{% include &#39;/etc/passwd&#39; %}" in page and "49" not in page
