"""The `casebook` command: the Click group, `init` and `new`, and the commands of the other
modules of `cli` added to the group.

`cli` is the only package that reads the clock, the terminal and the environment, and the only
one that prints. Heavy modules are imported inside the commands so that `casebook --help` stays
fast. The command modules import `cli.common` and the library, never this module.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from casebook.cli.common import DATE, Context, os_error, shown
from casebook.model import DEBTOR_KINDS


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
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def init(obj: Context, directory: Path | None) -> None:
    """Start a new casebook in DIRECTORY (default: the folder -C names, else the current
    one)."""
    from casebook.write.scaffold import init as make

    target = directory or obj.named or Path.cwd()
    target.mkdir(parents=True, exist_ok=True)
    for path in make(target, obj.today):
        click.echo(f"created {shown(path)}")
    click.echo("next: edit casebook.yml, then `casebook validate` and `casebook next`")


@main.command()
@click.argument("slug")
@click.option("--name", required=True, help="The debtor's name.")
@click.option("--kind", type=click.Choice(DEBTOR_KINDS),
              default="business", show_default=True)
@click.option("--owner", help="Who follows the case.")
@click.pass_obj
def new(obj: Context, slug: str, name: str, kind: str, owner: str | None) -> None:
    """Create cases/SLUG.md for a new debtor."""
    from casebook.write.scaffold import new_case

    path = new_case(obj.root, slug, name, kind, owner, obj.today)
    click.echo(f"created {shown(path)}")


def _add_commands() -> None:
    """The commands that live in their own modules (each imports its work when it runs)."""
    from casebook.cli import edit, history, imports, receipts, report, send, serve, site

    for module in (report, site, edit, history, imports, send, receipts, serve):
        for command in module.COMMANDS:
            main.add_command(command)


_add_commands()
