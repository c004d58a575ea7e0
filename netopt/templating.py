"""Jinja2 templates for netopt's HTML (the map's popups and panels, report.html).

One environment per template folder, with autoescaping on: every value a
template prints is HTML-escaped with :func:`html.escape` (quotes too, the
same escaping as the rest of netopt's HTML) unless it is already
:class:`markupsafe.Markup` (HTML that netopt built and escaped itself);
missing values print as an en dash. Undefined names are errors, not empty
text, so a template with a typo fails in the tests.
"""

from __future__ import annotations

import html
import math
from functools import lru_cache

import jinja2
from markupsafe import Markup

__all__ = ["render", "escape", "Markup"]

DASH = "\u2013"


def escape(value) -> Markup:
    """``value`` as escaped HTML (``None``/NaN → "–"; Markup passes through)."""
    if isinstance(value, Markup):
        return value
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Markup(DASH)
    return Markup(html.escape(str(value), quote=True))


@lru_cache(maxsize=None)
def _environment(package: str, folder: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, folder),
        autoescape=True,
        finalize=escape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["zip"] = zip
    return env


def render(package: str, folder: str, name: str, **context) -> Markup:
    """Render template ``folder/name`` of ``package`` (e.g. ``"netopt.maps", "templates", "panel.html"``)."""
    return Markup(_environment(package, folder).get_template(name).render(**context).strip())
