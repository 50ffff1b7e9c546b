"""Templates kept in their place: Jinja's sandbox and a file loader that stays in its folders.

A template reaches only the values it is given and the templates of its own folders: never a
file elsewhere (through `..`, an absolute name or a link) and never Python's internals. Case data
is never a template. Compiled templates are kept apart by what shaped their code, so that code
compiled otherwise is never loaded. Nothing here renders; `render` builds the environment from
these pieces.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import os
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from casebook.read.discover import inside, template_dirs
from casebook.usercache import user_cache_dir

MAX_TEMPLATE_BYTES = 1 << 20


class TemplateRefused(jinja2.TemplateError):
    """A template file that is there but may not be read (not a TemplateNotFound, so that
    Jinja's ChoiceLoader does not quietly try the next folder)."""

    def __init__(self, filename: str, message: str) -> None:
        super().__init__(message)
        self.filename = filename


class ContainedLoader(jinja2.FileSystemLoader):
    """Jinja's file loader, kept inside its folders: names with `..` are refused (as Jinja
    does), and so is a template that is a link to a file outside the folder it was found in
    (`templates/x.html -> /etc/passwd`), or that is not a regular file of a sane size."""

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)
        for folder in self.searchpath:
            filename = os.path.join(folder, *pieces)
            if os.path.isfile(filename):
                break
        else:
            raise jinja2.TemplateNotFound(template)
        if not inside(os.path.realpath(filename), os.path.realpath(folder)):
            raise TemplateRefused(filename, f"template {template!r} is a link to a file "
                                  "outside its folder; templates are read only from inside it")
        if not os.path.isfile(os.path.realpath(filename)):
            raise TemplateRefused(filename, f"template {template!r} is not a regular file")
        with open(filename, "rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateRefused(filename, f"template {template!r} is larger than "
                                  f"{MAX_TEMPLATE_BYTES:,} bytes")
        mtime = os.path.getmtime(filename)

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return data.decode(self.encoding), os.path.normpath(filename), uptodate


class Sandbox(SandboxedEnvironment):
    """Jinja's sandbox: a template can reach the values it is given, never Python's internals
    (`''.__class__.__mro__`, `cycler.__init__.__globals__`, …), so a template can read no
    file and run no program. Case data is never a template; the sandbox is for the templates
    of a casebook someone else wrote (a clone, a pull request in CI).

    The one change to Jinja's checks is a shorter way for plain data: a public attribute of
    casebook's own frozen dataclasses, of a Decimal or of a date, and one of Jinja's own loop
    variable (`loop.last`) or of an imported template (`m.table`, a macro), is read without
    the sandbox's inspection of each value. For such an object Jinja's checks could refuse
    only a name starting with `_`, and those still take Jinja's way."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        kind = type(obj)
        if attribute[:1] != "_" and (kind in _PLAIN_DATA or (
                kind not in _OTHER_TYPES and _is_plain_data(kind))):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)


# the types whose public attributes are read without the sandbox's checks: filled as values
# of casebook's own dataclasses come by (`_is_plain_data`)
_PLAIN_DATA: set[type] = {Decimal, date, jinja2.runtime.LoopContext,
                          jinja2.environment.TemplateModule}
_OTHER_TYPES: set[type] = set()


def _is_plain_data(kind: type) -> bool:
    plain = dataclasses.is_dataclass(kind) and kind.__module__.startswith("casebook.")
    (_PLAIN_DATA if plain else _OTHER_TYPES).add(kind)
    return plain


def own_templates(folders: list[str]) -> bool:
    """Whether the template folders (`discover.template_dirs`) include a casebook's own: then
    the environment must be the sandbox."""
    return folders != template_dirs(None)


def bytecode_cache(env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """Compiled templates, kept in the user's cache folder (never inside a casebook, which
    could carry compiled code from someone else): keyed by each template's source, so a
    build compiles only what changed and the shipped templates once per installation.

    Jinja keys its cache by template name and source only, and checks only its own cache
    format and Python's version; yet the code it writes depends on Jinja's version, on the
    sandbox, on escaping and on the syntax options. Each such combination has a folder of its
    own, named by them (`code_shape`), so code compiled otherwise is never loaded."""
    folder = user_cache_dir()
    if folder is None:
        return None
    folder = folder / f"templates-{code_shape(env)}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def code_shape(env: jinja2.Environment) -> str:
    """What the code Jinja compiles for `env` depends on, as a name: "jinja2-3.1.6-plain-html-"
    and a digest of the syntax and compiler options."""
    options = [(name, _stable(getattr(env, name, None))) for name in _SHAPING]
    digest = hashlib.sha256(repr(options).encode()).hexdigest()[:12]
    return (f"jinja2-{_version('jinja2')}-{'sandboxed' if env.sandboxed else 'plain'}-"
            f"{'html' if env.autoescape else 'text'}-{digest}")


def _stable(value: Any) -> Any:
    """A value as its repr may stand in a name: a function by its name, a set sorted."""
    if callable(value):
        return getattr(value, "__qualname__", type(value).__qualname__)
    if isinstance(value, (set, frozenset, dict)):
        return sorted(value)
    return value


_version = lru_cache(maxsize=None)(importlib.metadata.version)

# the environment's options that change the code Jinja compiles (its lexer, its compiler)
_SHAPING = ("block_start_string", "block_end_string", "variable_start_string",
            "variable_end_string", "comment_start_string", "comment_end_string",
            "line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks",
            "newline_sequence", "keep_trailing_newline", "optimized", "is_async",
            "autoescape", "finalize", "extensions", "intercepted_binops", "intercepted_unops")
