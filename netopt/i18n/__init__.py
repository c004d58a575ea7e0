"""The texts of netopt's outputs for people, one file per language.

``en.toml`` and ``sv.toml`` beside this module hold every text that
``report.md``, ``report.html``, ``map.html``, ``plan.xlsx`` and the frontier
show, under the same keys (a test checks that both languages have the same
keys and the same ``{placeholders}``). Swedish uses SSC's own terms:
servicekontor, flexibelt kontor, FA-region, besök, besparing, mnkr.

:func:`texts` returns a :class:`Texts` for a language code; calling it
formats a text (``tx("panel.cut", cut="150")``) and its ``num``/``pct``
methods write numbers the language's way (``1 003.1`` / ``1 003,1``, with a
no-break space between thousands). Data files for programs (``plan.csv``,
``summary.json``, the GeoPackage's field names) keep their English
identifiers in every language.
"""

from __future__ import annotations

import math
import re
import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "Texts", "texts", "check_language", "fmt"]

#: Languages of the outputs, the first the default.
LANGUAGES = ("en", "sv")

NBSP = "\u00a0"
DASH = "\u2013"


_NEGATIVE_ZERO = re.compile(r"^-(?=[0.,\u00a0 ]*$)")


def fmt(value, spec: str) -> str:
    """``format(value, spec)`` without a negative zero: -0.04 at ".1f" is "0.0", not "-0.0"."""
    return _NEGATIVE_ZERO.sub("", format(value, spec))


def check_language(lang: str, where: str = "--lang") -> str:
    """``lang`` if it is one of :data:`LANGUAGES`; else :class:`~netopt.errors.ScenarioError` naming ``where``."""
    from ..errors import ScenarioError

    if lang not in LANGUAGES:
        raise ScenarioError(f"{where}: language {lang!r} is not available. Fix: use one of {', '.join(LANGUAGES)}")
    return lang


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


#: ``[[name:singular|plural]]``: the words for a count ``name`` (see :meth:`Texts.__call__`).
_PLURAL = re.compile(r"\[\[(\w+):([^|\]]*)\|([^\]]*)\]\]")


def _is_one(value: Any) -> bool:
    """Whether a count (a number or its text, "1") is one."""
    if isinstance(value, str):
        return value.replace(NBSP, "").replace(" ", "").strip() in ("1", "+1", "-1")
    try:
        return abs(float(value)) == 1.0
    except (TypeError, ValueError):
        return False


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return isinstance(x, float) and not math.isfinite(x) or x != x
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Texts:
    """The texts of one language (``lang``), keyed like ``"panel.cut"``."""

    lang: str
    strings: dict

    def __call__(self, key: str, **values: Any) -> str:
        """The text ``key`` with ``{placeholders}`` filled from ``values`` (already formatted).

        A count's words agree with it: ``[[n:office keeps|offices keep]]`` in a
        text is "office keeps" when the value ``n`` is 1, else "offices keep"."""
        try:
            text = self.strings[key]
        except KeyError:
            raise KeyError(f"no text {key!r} in netopt/i18n/{self.lang}.toml") from None
        if "[[" in text:
            text = _PLURAL.sub(lambda m: m.group(2) if _is_one(values.get(m.group(1))) else m.group(3), text)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.strings

    @property
    def decimal_mark(self) -> str:
        return self.strings["format.decimal_mark"]

    def num(self, x: Any, decimals: int = 1, *, sign: bool = False, group: bool = True, sep: str = NBSP) -> str:
        """``x`` with ``decimals`` decimals in this language: thousands separated by
        ``sep`` (``group``), the language's decimal mark, no negative zero, "–" when missing."""
        if _missing(x):
            return DASH
        try:
            v = float(x)
        except (TypeError, ValueError):
            return str(x)
        if not math.isfinite(v):
            return DASH
        v = round(v, decimals)
        if v == 0:
            v = 0.0  # no "-0.0" (also for -0.04 shown with one decimal)
        text = f"{v:,.{decimals}f}" if group else f"{v:.{decimals}f}"
        text = text.replace(",", "\x00").replace(".", self.decimal_mark).replace("\x00", sep)
        if sign and v > 0:
            text = "+" + text
        return text

    def localize(self, text: str) -> str:
        """A number written the English way ("1234.5") with this language's decimal mark."""
        return text.replace(".", self.decimal_mark) if self.decimal_mark != "." else text

    def pct(self, share: Any, decimals: int = 1, *, sign: bool = False) -> str:
        """A share (0–1) as a percentage: "81.0 %" / "81,0 %"."""
        if _missing(share):
            return DASH
        return self.num(float(share) * 100.0, decimals, sign=sign) + NBSP + "%"

    def placeholders(self, key: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(_PLURAL.sub(r"\2", self.strings[key])) if f}


@lru_cache(maxsize=None)
def texts(lang: str = "en") -> Texts:
    """The texts of ``lang`` (one of :data:`LANGUAGES`)."""
    check_language(lang)
    raw = (resources.files(__package__) / f"{lang}.toml").read_text(encoding="utf-8")
    return Texts(lang=lang, strings=_flatten(tomllib.loads(raw)))
