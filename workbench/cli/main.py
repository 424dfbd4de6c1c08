"""``workbench``: the command line.

Every user mistake is a :class:`~workbench.errors.WorkbenchError`: printed as one clear
message with a hint, exit status non-zero, no traceback. Heavy modules are imported inside
the commands so that ``workbench --help`` stays instant.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from workbench import __version__
from workbench.cli.backtest import backtest, strategies
from workbench.cli.compare import compare
from workbench.cli.data import data
from workbench.cli.feed import feed
from workbench.cli.fix import fix_exchange
from workbench.cli.ib import ib_gateway_sim
from workbench.cli.paper import paper
from workbench.cli.sweep import sweep
from workbench.cli.walkforward import walkforward
from workbench.errors import WorkbenchError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="workbench")
def cli() -> None:
    """Research and paper-trading workbench for CME Micro WTI crude oil futures (MCL)."""


cli.add_command(data)
cli.add_command(backtest)
cli.add_command(strategies)
cli.add_command(compare)
cli.add_command(sweep)
cli.add_command(walkforward)
cli.add_command(ib_gateway_sim)
cli.add_command(paper)
cli.add_command(fix_exchange)
cli.add_command(feed)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, turning user errors into messages and exit codes."""
    try:
        return cli.main(args=argv, standalone_mode=False)
    except WorkbenchError as exc:
        click.secho(f"error: {exc.message}", fg="red", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted: completed work is kept; run the same command to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
