"""Which environment renders the templates, and where its compiled code is kept.

A casebook without a `templates/` folder of its own is rendered by Jinja's plain environment:
every template is casebook's own. One with such a folder gets the sandbox, since its templates
may come from anyone (a clone, a pull request). Compiled templates are kept per Jinja version,
environment and escaping, so that code compiled otherwise is never loaded.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner
from jinja2.sandbox import SandboxedEnvironment

from casebook.cli.main import main
from casebook.site import sandbox
from casebook.site.render import environment
from casebook.site.sandbox import Sandbox, code_shape
from tests.test_validate import GOOD

DAY = "2026-11-20"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    (root / "cases").mkdir(parents=True)
    (root / "casebook.yml").write_text("locale: en\n")
    (root / "cases" / "rossi.md").write_text(GOOD)
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(root), "--today", DAY, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("text", [False, True])
def test_a_casebook_without_templates_of_its_own_gets_the_plain_environment(
        book: Path, text: bool) -> None:
    for root in (None, book):
        env = environment(root, "en", "EUR", text=text)
        assert type(env) is jinja2.Environment and not env.sandboxed


@pytest.mark.parametrize("text", [False, True])
def test_a_casebook_with_a_templates_folder_gets_the_sandbox(book: Path, text: bool) -> None:
    (book / "templates").mkdir()
    (book / "templates" / "case.html").write_text("{{ case.id }}")
    env = environment(book, "en", "EUR", text=text)
    assert isinstance(env, Sandbox) and isinstance(env, SandboxedEnvironment) and env.sandboxed


def test_even_an_empty_templates_folder_gets_the_sandbox(book: Path) -> None:
    """Any file in it can be loaded by name (`{% include %}`), so the folder is what counts."""
    (book / "templates").mkdir()
    assert environment(book, "en", "EUR").sandboxed


def test_a_templates_folder_that_links_outside_is_ignored_and_not_sandboxed(
        book: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (book / "templates").symlink_to(elsewhere, target_is_directory=True)
    assert not environment(book, "en", "EUR").sandboxed


def test_the_sandbox_refuses_a_hostile_template_of_the_casebook(book: Path) -> None:
    (book / "templates").mkdir()
    (book / "templates" / "case.html").write_text("\n{{ ''.__class__.__mro__ }}")
    code, said = run(book, "build")
    assert code == 1 and "Error: template error:" in said, said
    assert "templates/case.html:2: " in said and "__class__" in said and "<class" not in said
    assert not (book / "site").exists()


def test_the_sandbox_renders_an_ordinary_template_of_the_casebook(book: Path) -> None:
    (book / "templates").mkdir()
    (book / "templates" / "case.html").write_text(
        '{% extends "shipped/case.html" %}{% block title %}Own: {{ case.debtor.name }}'
        '{% endblock %}')
    code, said = run(book, "build")
    assert code == 0, said
    page = (book / "site" / "cases" / "rossi.html").read_text()
    assert "<title>Own: Rossi S.r.l. ·" in page and 'class="case-head__title"' in page


def test_the_plain_environment_renders_the_shipped_templates(book: Path) -> None:
    code, said = run(book, "build")
    assert code == 0, said
    assert "<title>Rossi S.r.l. (rossi) ·" in (book / "site" / "cases" / "rossi.html").read_text()


def test_compiled_code_is_kept_apart_by_what_shapes_it(book: Path) -> None:
    (book / "templates").mkdir()
    shapes = {code_shape(environment(root, "en", "EUR", text=text))
              for root in (None, book) for text in (False, True)}
    version = importlib.metadata.version("jinja2")
    assert len(shapes) == 4
    assert {shape.rsplit("-", 1)[0] for shape in shapes} == {
        f"jinja2-{version}-plain-html", f"jinja2-{version}-plain-text",
        f"jinja2-{version}-sandboxed-html", f"jinja2-{version}-sandboxed-text"}
    env = environment(None, "en", "EUR")
    before = code_shape(env)
    env.trim_blocks = False
    assert code_shape(env) != before  # the syntax options count too
    assert code_shape(environment(None, "it", "EUR")) == before  # the locale does not


def test_compiled_templates_go_to_the_folder_of_their_shape(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, book: Path) -> None:
    monkeypatch.setattr(sandbox, "user_cache_dir", lambda: tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    plain = environment(None, "en", "EUR")
    plain.get_template("case.html")
    (book / "templates").mkdir()
    sandboxed = environment(book, "en", "EUR")
    sandboxed.get_template("case.html")
    folders = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert folders == sorted(f"templates-{code_shape(e)}" for e in (plain, sandboxed))
    for folder in folders:
        assert any((tmp_path / "cache" / folder).glob("*.cache")), folder
