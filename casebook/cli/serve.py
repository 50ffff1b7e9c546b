"""`casebook watch` and `casebook serve`: thin Click commands over `casebook.serve.preview`.

They read the clock and print one line per rebuild; the watching, rebuilding and serving live in
`casebook.serve.preview`. Ctrl-C ends either command cleanly, with exit code 0.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import click

from casebook.cli.common import Context, shown

if TYPE_CHECKING:
    from casebook.serve.preview import Outcome


@click.command()
@click.pass_obj
def watch(obj: Context) -> None:
    """Rebuild site/ on every change to cases/, templates/ or casebook.yml."""
    from casebook.serve.preview import Preview

    preview = Preview(obj.root, _today(obj), report=_reporter("site/ left as it was"))
    try:
        preview.watch()  # first, so that a save during the first build is not missed
        preview.rebuild()
        click.echo("watching cases/, templates/ and casebook.yml (Ctrl-C to stop)")
        preview.run()
    except KeyboardInterrupt:
        pass
    finally:
        preview.close()
    click.echo("stopped")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; the default is reachable from this machine only.")
@click.pass_obj
def serve(obj: Context, port: int, host: str) -> None:
    """Build, serve site/ with live reload, and rebuild on every change."""
    from casebook.serve.preview import Preview

    preview = Preview(obj.root, _today(obj),
                      report=_reporter("still serving the last good site"))
    preview.bind(host, port)  # a busy port fails here, before any work
    try:
        preview.watch()
        preview.rebuild()  # failed: serve what exists, with the errors on top
        preview.start_server()
        click.echo(f"serving {preview.url} with live reload (Ctrl-C to stop)")
        preview.run()
    except KeyboardInterrupt:
        pass
    finally:
        preview.close()
    click.echo("stopped")


def _today(obj: Context) -> Callable[[], date]:
    """A `--today` (or CASEBOOK_TODAY) holds for the whole session; otherwise each rebuild
    takes the day it runs on, so a preview left open overnight moves on."""
    given = click.get_current_context().find_root().params.get("today")
    if given is not None:
        return lambda: obj.today
    return date.today


def _reporter(on_failure: str) -> Callable[[Outcome], None]:
    def report(outcome: Outcome) -> None:
        for line in outcome.errors[:-1]:  # a failure's diagnostics, then its summary
            click.echo(line, err=True)
        click.echo(rebuild_line(outcome, on_failure), err=not outcome.ok)

    return report


def rebuild_line(outcome: Outcome, on_failure: str) -> str:
    """What changed, what the rebuild did and how long it took."""
    what = _changed(outcome.paths)
    ms = f"{outcome.ms:.0f} ms"
    if outcome.result is None:
        return f"{what}build failed in {ms}: {outcome.errors[-1]}; {on_failure}"
    result = outcome.result
    site = f"{shown(result.out)}/"
    if not result.written:
        return f"{what}{site} is up to date ({result.cases} cases), checked in {ms}"
    left = f", {len(result.invalid)} invalid files left out" if result.invalid else ""
    done = "updated" if result.in_place else "built"
    return f"{what}{done} {site} in {ms}: {result.cases} cases, {result.rendered} rendered{left}"


def _changed(paths: tuple[str, ...]) -> str:
    if not paths:
        return ""
    more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
    return f"{paths[0]}{more} changed: "


COMMANDS: tuple[click.Command, ...] = (watch, serve)
