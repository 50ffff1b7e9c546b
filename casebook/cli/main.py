"""The `casebook` command: thin Click commands over the library.

The only module that reads the clock, the terminal and the environment, and the only one that
prints. Heavy modules are imported inside the commands so that `casebook --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from casebook.diagnostics import Diagnostic
    from casebook.errors import CasebookError
    from casebook.load.assess import Assessed


@dataclass(frozen=True)
class Context:
    found: Path | None  # the casebook's folder; None outside any casebook
    today: date
    named: Path | None = None  # the folder -C named

    @property
    def root(self) -> Path:
        """The casebook's folder; outside one, every command but `init` stops here (SPEC 1)."""
        if self.found is None:
            from casebook.errors import NoCasebook

            raise NoCasebook()
        return self.found


class DateType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        from casebook.read.yamlread import iso_date, out_of_range

        day = iso_date(str(value).strip())
        if day is None:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)
        problem = out_of_range(day)
        if problem is not None:
            self.fail(problem, param, ctx)
        return day


DATE = DateType()


class _Commands(click.Group):
    """The command group; a failure of the system (a read-only folder, a full disk, a file
    where a folder should be) ends any command with one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from casebook.errors import CasebookError

        try:
            return super().invoke(ctx)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise  # a closed pipe (`casebook next | head`): click ends quietly
            raise CasebookError(os_error(exc)) from None


def os_error(exc: OSError, what: str = "cannot complete the command") -> str:
    """`what: the system's reason (the file)`, one line."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f" ({_shown(Path(os.fsdecode(exc.filename)))})" if exc.filename else ""
    return f"{what}: {reason}{where}"


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--root", type=click.Path(file_okay=False, path_type=Path),
              help="The casebook folder (default: the nearest folder upwards holding "
                   "casebook.yml, else the current one if it holds cases/).")
@click.option("--today", type=DATE, envvar="CASEBOOK_TODAY",
              help="Compute as on this day (also CASEBOOK_TODAY); default: the system date.")
@click.version_option(package_name="casebook")
@click.pass_context
def main(ctx: click.Context, root: Path | None, today: date | None) -> None:
    """casebook: collect overdue invoices from plain-text case files."""
    from casebook.load.loader import find_root, is_casebook

    if root is not None and not root.is_dir():
        raise click.BadParameter(f"{root} is not a folder", param_hint="-C/--root")
    given = root.resolve() if root is not None and is_casebook(root) else None
    base = find_root(Path.cwd()) if root is None else given
    ctx.obj = Context(found=base, today=today or date.today(), named=root)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as JSON.")
@click.pass_obj
def validate(obj: Context, files: tuple[Path, ...], strict: bool, as_json: bool) -> None:
    """Check casebook.yml and every case file (or only FILES)."""
    from casebook.diagnostics import ordered, summary
    from casebook.load.checks import check
    from casebook.load.loader import load

    casebook = load(obj.root)
    found = check(casebook, obj.today)
    count = casebook.file_count
    if files:
        wanted = {_relative(obj.root, f) for f in files}
        found = [d for d in found if d.path in wanted]
        found += [_not_a_case(p) for p in sorted(wanted) if not _is_casebook_file(p)]
        count = len(wanted)
    diagnostics = ordered(found)
    if as_json:
        click.echo(json.dumps(_diagnostics_json(diagnostics, count), indent=2))
    else:
        for diagnostic in diagnostics:
            click.echo(diagnostic.format())
        click.echo(summary(diagnostics, count))
    sys.exit(_exit_code(diagnostics, strict))


def _relative(root: Path, path: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _is_casebook_file(relative: str) -> bool:
    return relative == "casebook.yml" or (relative.startswith("cases/")
                                          and relative.endswith(".md"))


def _not_a_case(relative: str) -> Diagnostic:
    from casebook.diagnostics import Diagnostic, Severity

    return Diagnostic(relative, 1, 1, Severity.ERROR, "not-a-case",
                      "not a case file of this casebook: case files are cases/**/*.md")


def _diagnostics_json(diagnostics: list[Diagnostic], files: int) -> dict[str, Any]:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return {
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "files": files,
        "diagnostics": [d.as_json() for d in diagnostics],
    }


def _exit_code(diagnostics: list[Diagnostic], strict: bool) -> int:
    if any(d.severity == "error" for d in diagnostics):
        return 1
    return 1 if strict and diagnostics else 0


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def init(obj: Context, directory: Path | None) -> None:
    """Start a new casebook in DIRECTORY (default: the folder -C names, else the current
    one)."""
    from casebook.write.scaffold import init as make

    target = directory or obj.named or Path.cwd()
    target.mkdir(parents=True, exist_ok=True)
    for path in make(target, obj.today):
        click.echo(f"created {_shown(path)}")
    click.echo("next: edit casebook.yml, then `casebook validate` and `casebook next`")


@main.command()
@click.argument("slug")
@click.option("--name", required=True, help="The debtor's name.")
@click.option("--kind", type=click.Choice(["business", "consumer", "public"]),
              default="business", show_default=True)
@click.option("--owner", help="Who follows the case.")
@click.pass_obj
def new(obj: Context, slug: str, name: str, kind: str, owner: str | None) -> None:
    """Create cases/SLUG.md for a new debtor."""
    from casebook.write.scaffold import new_case

    path = new_case(obj.root, slug, name, kind, owner, obj.today)
    click.echo(f"created {_shown(path)}")


def json_lines(items: list[dict[str, Any]]) -> str:
    """A JSON array with one object per line: valid JSON, and a readable, greppable diff."""
    from casebook.site.formats import to_json

    return to_json(items).rstrip("\n")


def _colour() -> bool | None:
    """None lets click decide (colour on a terminal only); NO_COLOR turns it off."""
    return False if os.environ.get("NO_COLOR") else None


def _assess(obj: Context, for_people: bool = False) -> Assessed:
    """The casebook assessed on the day (the reasons in its locale `for_people`); errors go
    to stderr and set exit code 1."""
    from casebook.load.assess import assess

    assessed = assess(obj.root, obj.today, for_people=for_people)
    _report_errors(assessed)
    return assessed


def _report_errors(assessed: Assessed) -> None:
    for diagnostic in assessed.errors:
        click.echo(diagnostic.format(), err=True)
    if assessed.errors:
        click.echo(f"{len(assessed.invalid_paths)} files with errors are left out; "
                   "run `casebook validate`", err=True)


@main.command(name="next")
@click.option("--due", "due_only", is_flag=True, help="Only actions due by today.")
@click.option("--all", "everything", is_flag=True,
              help="Also closed cases and cases with nothing to do.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (SPEC format).")
@click.pass_obj
def next_(obj: Context, due_only: bool, everything: bool, as_json: bool) -> None:
    """The next action of every case, most urgent first."""
    assessed = _assess(obj, for_people=not as_json)
    rows = assessed.by_urgency(everything=everything, due_by=obj.today if due_only else None)
    if as_json:
        click.echo(json_lines(rows))
    else:
        from casebook.cli.terminal import next_table

        click.echo(next_table(rows, obj.today), color=_colour())
    sys.exit(1 if assessed.errors else 0)


@main.command()
@click.argument("case_id", metavar="CASE")
@click.pass_obj
def show(obj: Context, case_id: str) -> None:
    """One case: balance, invoices, interest, status, next action, recent contacts."""
    from casebook.cli.terminal import show_case
    from casebook.engine.interest import interest_context, interest_for_case
    from casebook.load.assess import assess_case

    config, case = _valid_case(obj, case_id)
    assessment = assess_case(case, config, obj.today)
    interest = interest_for_case(case, interest_context(config.interest, obj.today))
    click.echo(show_case(assessment, interest), color=_colour())


@main.command()
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "ics"]), default="json",
              show_default=True)
@click.option("--dialect", type=click.Choice(["standard", "excel-it"]),
              help="For csv: standard (commas, a decimal dot; the default) or excel-it "
                   "(semicolons, a decimal comma and a UTF-8 BOM, as Excel in Italian opens it).")
@click.pass_obj
def export(obj: Context, fmt: str, dialect: str | None) -> None:
    """Every case with its balance, interest and next action, to stdout."""
    from casebook.load.assess import assess
    from casebook.site.formats import CSV_DIALECTS, export_task, to_csv, to_ics, to_json

    if dialect is not None and fmt != "csv":
        raise click.UsageError("--dialect is for --format csv only")
    assessed = assess(obj.root, obj.today, task=export_task(obj.today, for_people=fmt == "ics"))
    _report_errors(assessed)
    rows = sorted(assessed.rows, key=lambda r: r["case"])
    if fmt == "json":
        text = to_json(rows)
    elif fmt == "csv":
        text = to_csv(rows, CSV_DIALECTS[dialect or "standard"])
    else:
        text = to_ics(rows, obj.today, assessed.casebook.config)
    # Bytes, so that the CRLF line ends CSV and ICS require reach the file untouched.
    click.echo(text.encode("utf-8"), nl=False)
    sys.exit(1 if assessed.errors else 0)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: site/ in the casebook).")
@click.option("--keep-going", is_flag=True,
              help="Build the valid cases and list the invalid files on the dashboard.")
@click.pass_obj
def build(obj: Context, out: Path | None, keep_going: bool) -> None:
    """Render the dashboard, case pages, letters and exports into site/."""
    import jinja2

    from casebook.diagnostics import summary
    from casebook.errors import CasebookError
    from casebook.site.build import BuildFailed
    from casebook.site.build import build as make

    root = obj.root  # outside a casebook, stop before anything is written
    site = out or root / "site"
    if site.exists() and not site.is_dir():
        raise CasebookError(f"{_shown(site)} is not a folder: casebook builds the site into a "
                            "folder; move that file away or name another with --out")
    with _progress("Rendering") as progress:
        try:
            result = make(obj.root, obj.today, out, keep_going=keep_going, progress=progress)
        except jinja2.TemplateError as exc:
            raise _template_error(exc, obj.root, "; the site was left as it was") from None
        except OSError as exc:
            raise CasebookError(os_error(exc, "cannot write the site")
                                + "; the site was left as it was") from None
        except BuildFailed as failed:
            for diagnostic in failed.diagnostics:
                click.echo(diagnostic.format(), err=True)
            click.echo(summary(failed.diagnostics, len({d.path for d in failed.diagnostics})),
                       err=True)
            click.echo("build stopped: the site was left as it was "
                       "(fix the errors, or use --keep-going)", err=True)
            sys.exit(1)
        except Exception as exc:  # a template failing as it runs: {{ 1 / 0 }}
            if not _in_template(exc):
                raise
            raise _template_error(exc, obj.root, "; the site was left as it was") from None
    for diagnostic in result.diagnostics:
        if diagnostic.severity == "warning" or keep_going:
            click.echo(diagnostic.format(), err=True)
    where = _shown(result.out)
    if not result.written:
        click.echo(f"{where} is up to date ({result.cases} cases)")
    else:
        left = f"; {len(result.invalid)} invalid files left out" if result.invalid else ""
        click.echo(f"built {where}: {result.cases} cases, {result.rendered} rendered{left}")
    sys.exit(1 if result.invalid else 0)


class _progress:
    """A progress bar on stderr for long runs on a terminal; silent otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        return self.update

    def update(self, done: int, total: int) -> None:
        if total < 500:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@main.command()
@click.argument("case_id", metavar="CASE")
@click.argument("step", required=False)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(["html", "text"]), default="html",
              show_default=True)
@click.pass_obj
def letter(obj: Context, case_id: str, step: str | None, out: Path | None, fmt: str) -> None:
    """Render one letter of CASE: STEP's letter (a ladder step or its alias, or a letter's
    name: dossier, plan-confirmation, promise-confirmation, statement, a template of the
    casebook), by default the next action's; one that does not fit the case is refused."""
    import jinja2

    from casebook.atomic import write_atomic
    from casebook.errors import CasebookError
    from casebook.site.build import Renderer
    from casebook.site.letters import require_fit

    config, case = _valid_case(obj, case_id)
    renderer = Renderer(obj.root, config, obj.today, _history(obj.root, case.path))
    view = renderer.view(case, letters=())
    policy = config.policy_for(case)
    names = _letter_names(policy, obj.root, config.locale)
    if step is None:
        name = view.letter
        if name is None:
            raise CasebookError(f"the next action ({view.action}) has no letter; name one: "
                                f"{', '.join(names)}")
    else:
        name = _letter_named(step, policy, names)
    require_fit(view, name, policy)  # a letter that does not fit the case as it stands
    try:
        text = renderer.letter(view, name, "html" if fmt == "html" else "txt")
    except Exception as exc:
        if not (_in_template(exc) or isinstance(exc, jinja2.TemplateError)):
            raise
        raise _template_error(exc, obj.root) from None
    if out is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(out, text.encode("utf-8"))
        except OSError as exc:
            raise CasebookError(os_error(exc, f"cannot write {_shown(out)}")) from None
        click.echo(f"wrote {_shown(out)}", err=True)


def _template_frames(exc: BaseException) -> list[Any]:
    """The traceback entries that stand in templates (Jinja gives them the template's file
    name and line)."""
    import traceback

    return [f for f in traceback.extract_tb(exc.__traceback__)
            if not f.filename.endswith(".py") and not f.filename.startswith("<")]


def _in_template(exc: BaseException) -> bool:
    return bool(_template_frames(exc))


def _template_error(exc: Exception, root: Path, then: str = "") -> CasebookError:
    """One clear line for a failure in a template, naming its file and line where known."""
    import jinja2

    from casebook.errors import CasebookError
    from casebook.read.discover import template_dirs

    frames = _template_frames(exc)
    where = getattr(exc, "filename", None) or (frames[-1].filename if frames else "")
    line = getattr(exc, "lineno", None) or (frames[-1].lineno if frames else None)
    for folder in template_dirs(root):
        if where.startswith(folder + os.sep):
            shown = where[len(folder) + 1:]
            where = f"templates/{shown}" if folder != template_dirs(None)[0] else shown
    at = f"{where}:{line}: " if where and line else (f"{where}: " if where else "")
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"no template {message}"
    elif not isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {message}"
    return CasebookError(f"template error: {at}{message}{then}")


def _letter_names(policy: Any, root: Path, locale: str) -> list[str]:
    """Every letter that can be named: the ladder's, the other shipped ones, then the casebook's
    own letter templates."""
    from casebook.read.discover import template_dirs
    from casebook.site.letters import EXTRA_LETTERS

    names = [s.letter for s in policy.steps if s.letter] + list(EXTRA_LETTERS)
    for folder in template_dirs(root):
        letters = Path(folder) / "letters" / locale
        if letters.is_dir():
            names += sorted(p.stem for p in letters.glob("*.html")
                            if not p.name.startswith(("_", ".")))
    return list(dict.fromkeys(names))


def _letter_named(word: str, policy: Any, names: list[str]) -> str:
    """The letter of the step `word` names (its id or an alias), else the letter named so."""
    from casebook.diagnostics import did_you_mean
    from casebook.errors import CasebookError

    step_id = policy.resolve(word)
    name = policy.step(step_id).letter if step_id else word if word in names else None
    if name is None:
        hint = "" if step_id else did_you_mean(word, [*names, *policy.words()])
        raise CasebookError(f"no letter {word!r}{hint}; name one of: {', '.join(names)}")
    return str(name)


def _history(root: Path, path: str) -> dict[str, Any]:
    from casebook.history import commits as githistory

    return {path: githistory.histories(root).get(path, ())}


def _valid_case(obj: Context, case_id: str) -> tuple[Any, Any]:
    """The config and the parsed case; errors in its file stop the command."""
    from casebook.errors import CasebookError, UnknownCase
    from casebook.load.checks import check
    from casebook.load.loader import load, load_case
    from casebook.read.config import CONFIG_NAME
    from casebook.read.discover import case_id as discovered_id

    wanted = _case_id(case_id)
    casebook = load(obj.root)
    relative = f"cases/{wanted}.md"
    if relative not in {s.path for s in casebook.files}:
        raise UnknownCase(case_id, [discovered_id(s.path) for s in casebook.files], wanted)
    # casebook.yml's errors count too: a broken config must not quietly become the defaults
    errors = [d for d in check(casebook, obj.today)
              if d.path in (relative, CONFIG_NAME) and d.severity == "error"]
    if not errors:
        try:
            parsed = load_case(obj.root, relative, casebook.config)
        except OSError as exc:
            raise CasebookError(f"cannot read {relative}: {exc.strerror or exc}") from None
        # the file may have changed since it was loaded
        errors = [d for d in parsed.diagnostics if d.severity == "error"]
        if not errors and parsed.case is not None:
            return casebook.config, parsed.case
    which = "the case file" if all(d.path == relative for d in errors) else "the casebook"
    raise CasebookError(f"{which} has errors; fix them first:\n"
                        + "\n".join(d.format() for d in errors))


def _case_id(text: str) -> str:
    """Accept `rossi`, `cases/rossi.md` or `rossi.md` for the case `rossi`."""
    return text.removeprefix("./").removeprefix("cases/").removesuffix(".md")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _add_commands() -> None:
    """The commands that live in their own modules (each imports its work when it runs)."""
    from casebook.cli.edit import COMMANDS as edit
    from casebook.cli.history import COMMANDS as history
    from casebook.cli.serve import COMMANDS as serve

    for command in (*edit, *history, *serve):
        main.add_command(command)


_add_commands()
