"""report.pdf: a report page printed by headless Chromium (when one is installed)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

#: File name written by :func:`write_pdf` next to the page.
PDF_FILE = "report.pdf"
#: Environment variable naming the Chromium/Chrome binary to use.
CHROMIUM_ENV = "WORKBENCH_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """A headless-capable Chromium/Chrome binary: ``$WORKBENCH_CHROMIUM`` or one on PATH."""
    env = os.environ.get(CHROMIUM_ENV)
    if env:
        return env if os.path.exists(env) or shutil.which(env) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(binary: str, profile_dir: str, *args: str) -> list[str]:
    """A headless Chromium command line with a throw-away profile, networking disabled."""
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--mute-audio",
        # Everything that is not loopback goes to a dead proxy: a report needing the
        # network fails visibly instead of silently fetching.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={profile_dir}",
        *args,
    ]


def write_pdf(
    report_html: Path, pdf_path: Path | None = None, *, timeout: float = 120.0
) -> Path | None:
    """Print a report page to PDF with headless Chromium.

    Parameters
    ----------
    report_html : pathlib.Path
        The page (e.g. report.html).
    pdf_path : pathlib.Path, optional
        Where to write; defaults to ``report.pdf`` next to the page.
    timeout : float, default 120
        Seconds before giving up.

    Returns
    -------
    pathlib.Path or None
        The PDF written, or None (with the reason logged) when no Chromium binary is found
        (set ``WORKBENCH_CHROMIUM`` or install ``chromium``) or printing failed.
    """
    binary = find_chromium()
    if binary is None:
        logger.warning(
            "report.pdf not written: no Chromium found (install the chromium package or set "
            "%s to a Chrome/Chromium binary)",
            CHROMIUM_ENV,
        )
        return None
    report_html = Path(report_html).resolve()
    out = Path(pdf_path) if pdf_path is not None else report_html.with_name(PDF_FILE)
    out = out.resolve()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="workbench-chromium-") as profile:
        cmd = chromium_command(
            binary,
            profile,
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--window-size=1400,1000",
            f"--print-to-pdf={out}",
            report_html.as_uri(),
        )
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            logger.warning("report.pdf not written: Chromium took more than %.0f s", timeout)
            return None
        except OSError as exc:
            logger.warning("report.pdf not written: could not run %s (%s)", binary, exc)
            return None
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        logger.warning(
            "report.pdf not written: %s exited with %s: %s",
            binary,
            proc.returncode,
            " | ".join(tail),
        )
        return None
    logger.info("report.pdf written in %.2f s (%s)", time.perf_counter() - t0, out)
    return out
