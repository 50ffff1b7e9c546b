"""The commands that render: `build` (the whole site) and `letter` (one letter of one case).

A template that fails, as it is parsed or as it runs, ends either command with one line naming
its file and line (`casebook.site.template_errors`); `build` then leaves the site as it was.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from casebook.cli.common import CASE, Context, os_error, shown

if TYPE_CHECKING:
    from casebook.site.oneletter import ReadyLetter


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: site/ in the casebook).")
@click.option("--keep-going", is_flag=True,
              help="Build the valid cases and list the invalid files on the dashboard.")
@click.option("--pdf", is_flag=True,
              help="Write each letter as an A4 PDF beside its page too (needs the pdf extra: "
                   "pip install 'casebook[pdf]'). watch and serve make no PDFs.")
@click.option("--shard", "part", metavar="I/N",
              help="Render only part I of N (the case pages and letters, and the pieces "
                   "of the dashboard and exports) into --out, for --merge.")
@click.option("--merge", is_flag=True,
              help="Put the site together from the folders of every shard (DIR…).")
@click.argument("shards", nargs=-1, metavar="[DIR…]",
                type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def build(obj: Context, out: Path | None, keep_going: bool, pdf: bool, part: str | None,
          merge: bool, shards: tuple[Path, ...]) -> None:
    """Render the dashboard, case pages, letters and exports into site/; on N machines,
    `--shard I/N` on each then `--merge DIR…` (the shards' folders)."""
    import jinja2

    from casebook.diagnostics import summary
    from casebook.errors import CasebookError
    from casebook.site.build import BuildFailed
    from casebook.site.build import build as make
    from casebook.site.template_errors import is_template_error, template_message

    root = obj.root  # outside a casebook, stop before anything is written
    site = out or root / "site"
    if site.exists() and not site.is_dir():
        raise CasebookError(f"{shown(site)} is not a folder: casebook builds the site into a "
                            "folder; move that file away or name another with --out")
    run = _how(obj, out, keep_going, pdf, part, merge, shards, make)
    with _progress("Rendering") as progress:
        try:
            result = run(progress)
        except BuildFailed as failed:
            for diagnostic in failed.diagnostics:
                click.echo(diagnostic.format(), err=True)
            click.echo(summary(failed.diagnostics, len({d.path for d in failed.diagnostics})),
                       err=True)
            click.echo("build stopped: the site was left as it was "
                       "(fix the errors, or use --keep-going)", err=True)
            sys.exit(1)
        except Exception as exc:  # a template failing as it is read or runs: {{ 1 / 0 }}
            if isinstance(exc, OSError) and not isinstance(exc, jinja2.TemplateError):
                raise CasebookError(os_error(exc, "cannot write the site")
                                    + "; the site was left as it was") from None
            if not is_template_error(exc):
                raise
            raise CasebookError(template_message(exc, obj.root)
                                + "; the site was left as it was") from None
    for diagnostic in result.diagnostics:
        if diagnostic.severity == "warning" or keep_going:
            click.echo(diagnostic.format(), err=True)
    where = shown(result.out)
    if not result.written:
        click.echo(f"{where} is up to date ({result.cases} cases)")
    elif part is not None:
        click.echo(f"built shard {part} in {where}: {result.cases} cases")
    elif merge:
        left = f"; {len(result.invalid)} invalid files left out" if result.invalid else ""
        click.echo(f"built {where} from {len(shards)} shards: {result.cases} cases{left}")
    else:
        left = f"; {len(result.invalid)} invalid files left out" if result.invalid else ""
        click.echo(f"built {where}: {result.cases} cases, {result.rendered} rendered{left}")
    sys.exit(1 if result.invalid else 0)


def _how(obj: Context, out: Path | None, keep_going: bool, pdf: bool, part: str | None,
         merge: bool, shards: tuple[Path, ...], make: Callable[..., Any]
         ) -> Callable[[Any], Any]:
    """The build asked for: whole, one shard, or the merge of shards; a usage error for
    options that do not go together."""
    from casebook.site.shard import Part, build_shard
    from casebook.site.shard import merge as merge_shards

    if part is not None and merge:
        raise click.UsageError("--shard and --merge cannot be used together: each shard "
                               "builds with --shard I/N, then one job merges with --merge DIR…")
    if shards and not merge:
        raise click.UsageError(f"unexpected argument {shards[0]}: only --merge takes folders")
    if merge:
        if not shards:
            raise click.UsageError("--merge needs the shards' folders: --merge DIR…")
        return lambda _: merge_shards(obj.root, obj.today, list(shards), out,
                                      keep_going=keep_going or None, pdf=pdf or None)
    if part is not None:
        try:
            which = Part.parse(part)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--shard") from None
        return lambda progress: build_shard(obj.root, obj.today, which, out,
                                            keep_going=keep_going, pdf=pdf, progress=progress)
    return lambda progress: make(obj.root, obj.today, out, keep_going=keep_going,
                                 progress=progress, pdf=pdf)


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


@click.command()
@CASE
@click.argument("step", required=False)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(["html", "text", "pdf", "zip"]),
              default="html", show_default=True,
              help="pdf: an A4 PDF, the same bytes for the same case and day (needs the pdf "
                   "extra: pip install 'casebook[pdf]'); zip (the dossier only): the lawyer's "
                   "file, with the dossier, the interest statement, the e-invoices, the letters "
                   "sent and their PEC receipts, and an index. Both go to stdout only when it "
                   "is not a terminal.")
@click.pass_obj
def letter(obj: Context, case_id: str, step: str | None, out: Path | None, fmt: str) -> None:
    """Render one letter of CASE: STEP's letter (a ladder step or its alias, or a letter's
    name: dossier, plan-confirmation, promise-confirmation, statement, a template of the
    casebook), by default the next action's; one that does not fit the case is refused."""
    from casebook.atomic import write_atomic
    from casebook.errors import CasebookError
    from casebook.site.oneletter import pdf_of, ready_letter

    binary = fmt in ("pdf", "zip")
    if binary and out is None and sys.stdout.isatty():
        what = "a PDF" if fmt == "pdf" else "a zip"
        raise CasebookError(f"{what} is not for the terminal: use --out FILE "
                            "(or redirect stdout to a file)")
    ready = ready_letter(obj.root, case_id, step, obj.today)
    text = ready.html if fmt == "html" else ready.text
    if fmt == "zip":
        data = _lawyers_file(obj, ready)
    else:
        data = pdf_of(ready, obj.today) if fmt == "pdf" else text.encode("utf-8")
    if out is None:
        click.echo(data if binary else text, nl=False)  # bytes go to the binary stream
        return
    try:
        write_atomic(out, data)
    except OSError as exc:
        raise CasebookError(os_error(exc, f"cannot write {shown(out)}")) from None
    click.echo(f"wrote {shown(out)}", err=True)


def _lawyers_file(obj: Context, ready: ReadyLetter) -> bytes:
    """The dossier's zip (`site.dossier_zip`); a letter sent that cannot be rendered again is
    said on stderr, and the index lists it as not reproducible."""
    from casebook.errors import CasebookError
    from casebook.site.dossier_zip import lawyers_file
    from casebook.site.letters import DOSSIER

    if ready.name != DOSSIER:
        raise CasebookError(f"only the dossier has a zip (the lawyer's file), not the "
                            f"{ready.name.replace('-', ' ')}: casebook letter "
                            f"{ready.case.id} dossier --format zip")
    made = lawyers_file(obj.root, ready, obj.today)
    for why in made.left_out:
        click.echo(f"warning: {why}", err=True)
    return made.data


COMMANDS: tuple[click.Command, ...] = (build, letter)
