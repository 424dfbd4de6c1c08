"""``workbench compare``: saved backtest runs side by side."""

from __future__ import annotations

import click


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--out-dir",
    default="results/comparisons",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the comparison folder (named by the UTC time) is created.",
)
def compare(run_dirs: tuple[str, ...], out_dir: str) -> None:
    """Compare saved runs (folders under results/backtests): writes
    strategy_comparison.csv and comparison_report.html, and prints the key figures."""
    from pathlib import Path

    from workbench.results.compare import COMPARISON_CSV, load_summary, period_warning
    from workbench.visualization.report import compare_with_report  # Plotly: slow import

    folder = compare_with_report([Path(d) for d in run_dirs], out_dir)
    import pandas as pd

    table = pd.read_csv(folder / COMPARISON_CSV)
    for row in table.itertuples(index=False):
        ret = "n/a" if pd.isna(row.total_return_pct) else f"{row.total_return_pct:+.2f}%"
        sharpe = "n/a" if pd.isna(row.sharpe_ratio) else f"{row.sharpe_ratio:.2f}"
        click.echo(
            f"{row.run_id}: {row.strategy}  return {ret}  sharpe {sharpe}"
            f"  trades {row.total_trades}"
        )
    warning = period_warning([load_summary(Path(d)) for d in run_dirs])
    if warning:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(f"comparison: {folder}")
