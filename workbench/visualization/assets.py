"""The page templates and static assets shipped with the package, and plotly.js.

The files live in ``workbench/visualization/templates/`` (package data, see
``[tool.setuptools.package-data]`` in pyproject.toml) and are read with
:mod:`importlib.resources`, so they are found in a wheel install too:

``page.html``        skeleton of report.html and comparison_report.html
``chart_page.html``  skeleton of a charts/{name}.html page
``report.css``       the report's style sheet (``${print_row}``: first trade-table row hidden
                     when printed)
``sort_table.js``    click-a-header sorting of ``table.sortable``
``comparison.css``   extra style of comparison_report.html
``dashboard.css``    style of the notebook dashboard's HTML parts

Templates use :class:`string.Template` placeholders (``${name}``).
"""

from __future__ import annotations

import functools
from importlib import resources
from string import Template

from plotly.offline import get_plotlyjs

#: Folder of the templates inside the package.
TEMPLATES_DIR = "templates"


@functools.cache
def asset(name: str) -> str:
    """The text of a template or static file, read once.

    Parameters
    ----------
    name : str
        The file's name in ``workbench/visualization/templates/``.

    Returns
    -------
    str
    """
    files = resources.files("workbench.visualization").joinpath(TEMPLATES_DIR, name)
    return files.read_text(encoding="utf-8")


def fill(name: str, **values: object) -> str:
    """The template ``name`` with its ``${placeholders}`` replaced by ``values``.

    Parameters
    ----------
    name : str
        The template's file name.
    **values
        One value per placeholder (all are required).

    Returns
    -------
    str
    """
    return Template(asset(name)).substitute(values)


@functools.cache
def plotly_js() -> str:
    """The bundled plotly.js (minified), read once."""
    return str(get_plotlyjs())
