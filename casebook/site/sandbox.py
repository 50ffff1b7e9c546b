"""Templates kept in their place: Jinja's sandbox and a file loader that stays in its folders.

A template reaches only the values it is given and the templates of its own folders: never a
file elsewhere (through `..`, an absolute name or a link) and never Python's internals. Case data
is never a template. Nothing here renders; `render` builds the environment from these pieces.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import jinja2
import markupsafe
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.nodes import Getattr, Node
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from casebook.read.discover import inside

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # markupsafe built without its C extension
    from markupsafe._native import _escape_inner

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


def escape(value: Any) -> str:
    """`markupsafe.escape` for a value a template writes out (`{{ value }}`): the same text,
    returned as a plain `str` where that is all the output needs. Jinja joins each piece of a
    page into one string, and wraps what a macro, a `set` block or a filter block makes in
    `Markup` itself; so the `Markup` that `markupsafe.escape` makes around every value, at the
    cost of two more Python calls, is thrown away. Text, already-safe Markup and whole numbers
    take the short way; everything else goes through markupsafe."""
    kind = type(value)  # as markupsafe: a proxy may report the class of what it wraps
    if kind is str:
        return _escape_inner(value)
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    return markupsafe.escape(value)


class _CodeGenerator(CodeGenerator):
    """Jinja's compiler, with two changes to the code it writes for the sandbox, both for
    speed and neither for what a template may reach:

    - the templates' `escape` is the one above: each compiled template imports Jinja's runtime
      names in one line, and the line after it rebinds it;
    - `value.name`, with a public `name`, reads the attribute inline when the value is plain
      data (`PLAIN_DATA`), the very case in which `Sandbox.getattr` would read it directly,
      instead of calling it for each of some 500 attributes a case's pages read. Any other
      value, a private name, or an attribute that is not there takes `Sandbox.getattr` as
      before, so its checks and its undefined values are unchanged."""

    def writeline(self, x: str, node: Node | None = None, extra: int = 0) -> None:
        super().writeline(x, node, extra)
        if x.startswith("from jinja2.runtime import "):
            super().writeline("from casebook.site.sandbox import escape, PLAIN_DATA as cb_plain")

    @optimizeconst
    def visit_Getattr(self, node: Getattr, frame: Frame) -> None:
        if node.attr[:1] == "_" or self.environment.is_async or not node.attr.isidentifier():
            return super().visit_Getattr(node, frame)
        # Evaluated once into `cb_o`; the test runs before either branch, and a nested
        # `a.b.c` assigns its inner names before the outer ones are read.
        name = repr(node.attr)
        self.write("(cb_v if type(cb_o := ")
        self.visit(node.node, frame)
        self.write(f") in cb_plain and (cb_v := getattr(cb_o, {name}, missing)) is not missing"
                   f" else environment.getattr(cb_o, {name}))")


class Sandbox(SandboxedEnvironment):
    """Jinja's sandbox: a template can reach the values it is given, never Python's internals
    (`''.__class__.__mro__`, `cycler.__init__.__globals__`, …), so a template can read no
    file and run no program. Case data is never a template; the sandbox is for the templates
    of a casebook someone else wrote (a clone, a pull request in CI).

    The one change to Jinja's checks is a fast path: a public attribute of casebook's own
    frozen dataclasses, of a Decimal or of a date is data, and one of Jinja's own loop
    variable (`loop.last`) or of an imported template (`m.table`, a macro) is what Jinja
    gives every template: each is returned without the sandbox's inspection of each value
    (which doubles the cost of rendering a page)."""

    code_generator_class = _CodeGenerator

    def getattr(self, obj: Any, attribute: str) -> Any:
        kind = type(obj)
        if attribute[:1] != "_" and (kind in PLAIN_DATA or (
                kind not in _OTHER_TYPES and _is_plain_data(kind))):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)


# the types whose public attributes are read without the sandbox's checks: filled as values
# of casebook's own dataclasses come by (`_is_plain_data`)
PLAIN_DATA: set[type] = {Decimal, date, jinja2.runtime.LoopContext,
                         jinja2.environment.TemplateModule}
_OTHER_TYPES: set[type] = set()


def _is_plain_data(kind: type) -> bool:
    plain = dataclasses.is_dataclass(kind) and kind.__module__.startswith("casebook.")
    (PLAIN_DATA if plain else _OTHER_TYPES).add(kind)
    return plain
