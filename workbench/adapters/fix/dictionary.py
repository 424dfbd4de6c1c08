"""The FIX data dictionary as a QuickFIX XML file, to edit and pass as ``--dictionary``."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import ConfigError
from workbench.native import fix_write_dictionary


def write_dictionary_file(path: str | Path) -> Path:
    """Write the built-in FIX 4.4 data dictionary (the messages the engine speaks) in
    QuickFIX's XML format.

    Parameters
    ----------
    path
        The file to write (replaced if it exists).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ConfigError
        When the file cannot be written.
    """
    path = Path(path)
    try:
        fix_write_dictionary(str(path))
    except OSError as exc:
        raise ConfigError(
            f"cannot write the data dictionary: {exc}", hint="check the folder exists"
        ) from None
    return path
