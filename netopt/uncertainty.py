"""The uncertain estimates of the visit and cost model, and samples of them.

``data/model/uncertainty.toml`` (beside ``parameters.toml``) names each
estimate :func:`netopt.robustness.robustness` varies, with its distribution,
its range and why; a planner passes their own file with ``--uncertainty``.
Each table is one parameter of ``parameters.toml`` (by its one name) or
``office_visits``, a factor on each office's estimated 2024 visits::

    [decay_km]
    distribution = "triangular"   # uniform | triangular | loguniform | lognormal
    low = 20.0
    high = 80.0
    # mode (triangular) and the median (lognormal): the value in force unless given
    basis = "judgement"           # "source" (derived from a cited figure) or "judgement"
    why = "..."

:func:`load_uncertainty` checks a file and reports every problem at once
(file, key, value, what is allowed, the fix); :func:`check_values_in_force`
checks that the run's own parameter values lie inside the ranges.

Samples are reproducible and independent of where they are drawn:
:func:`draw` takes sample ``k``'s value of each parameter from its own random
stream, ``numpy.random.SeedSequence(seed, spawn_key=(k, crc32(name)))``
(an office's visit factor from the name ``office_visits:<office_id>``), by
the inverse of the distribution function at one uniform number. Adding a
parameter to the file or an office to the register leaves the other draws
as they were.
"""

from __future__ import annotations

import difflib
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import io
from .errors import Problem, ScenarioError
from .params import PARAMETER_RANGES, Parameters

__all__ = [
    "Distribution", "Uncertainty", "Draw", "load_uncertainty", "uncertainty_from_dict", "check_values_in_force",
    "draw", "quantile", "DISTRIBUTIONS", "OFFICE_VISITS", "BASES", "SHIPPED_UNCERTAINTY",
]

#: Distributions a table may name.
DISTRIBUTIONS = ("uniform", "triangular", "loguniform", "lognormal")
#: What a range rests on: a figure with a source, or the modeller's judgement.
BASES = ("source", "judgement")
#: The table of the per-office factor on the estimated 2024 visits.
OFFICE_VISITS = "office_visits"
#: Largest factor ``office_visits`` may reach.
OFFICE_VISITS_MAX = 100.0
_KEYS = ("distribution", "low", "high", "mode", "sigma", "basis", "why")
_REQUIRED = ("distribution", "low", "high", "basis", "why")


def shipped_path() -> Path:
    """``data/model/uncertainty.toml`` (in a wheel: ``netopt/_data/model/``)."""
    return io.DATA_DIR / "model" / "uncertainty.toml"


SHIPPED_UNCERTAINTY = "data/model/uncertainty.toml"


@dataclass(frozen=True)
class Distribution:
    """How one estimate varies.

    ``name`` is a parameter of ``parameters.toml`` or :data:`OFFICE_VISITS`;
    ``kind`` one of :data:`DISTRIBUTIONS`; values lie in ``[low, high]``.
    ``mode`` (triangular) and the median of a lognormal (with ``sigma``, the
    standard deviation of its logarithm, truncated to the range) are the
    value in force when ``mode`` is None (1 for ``office_visits``).
    """

    name: str
    kind: str
    low: float
    high: float
    basis: str
    why: str
    mode: float | None = None
    sigma: float | None = None

    def centre(self, value_in_force: float) -> float:
        """The mode (triangular) or median (lognormal) used for a value in force."""
        return float(self.mode) if self.mode is not None else float(value_in_force)

    def describe(self, value_in_force: float) -> str:
        """The distribution in words and numbers: ``triangular 20 – 40 – 80``."""
        c = self.centre(value_in_force)
        if self.kind == "triangular":
            return f"triangular {self.low:g} – {c:g} – {self.high:g}"
        if self.kind == "lognormal":
            return f"lognormal, median {c:g}, σ {self.sigma:g}, within {self.low:g} – {self.high:g}"
        return f"{self.kind} {self.low:g} – {self.high:g}"


@dataclass(frozen=True)
class Uncertainty:
    """The uncertain estimates of one file: ``parameters`` sorted by name, and
    ``office_visits`` (or None). ``source`` is the file, ``sha256`` its bytes' digest."""

    parameters: tuple
    office_visits: Distribution | None
    source: str
    sha256: str
    raw: bytes = b""  # the file's bytes as read (written beside the results)

    @property
    def names(self) -> tuple:
        return tuple(d.name for d in self.parameters)

    def settings(self) -> dict:
        """Every table as plain data (JSON-able), the way the file writes it."""
        out = {}
        for d in (*self.parameters, *([self.office_visits] if self.office_visits else [])):
            out[d.name] = {k: v for k, v in (("distribution", d.kind), ("low", d.low), ("high", d.high), ("mode", d.mode),
                                              ("sigma", d.sigma), ("basis", d.basis), ("why", d.why)) if v is not None}
        return out


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _samplable() -> list[str]:
    """Parameters a file may vary: those of kind "number" (booleans, whole numbers and tables cannot be sampled)."""
    return [k for k, (kind, _lo, _hi) in PARAMETER_RANGES.items() if kind == "number"]


def _table_problems(name: str, body, source: str) -> tuple[list[Problem], Distribution | None]:
    problems: list[Problem] = []
    if not isinstance(body, Mapping):
        problems.append(Problem(source, None, name, repr(body)[:60], "must be a table of how the estimate varies",
                                f"write [{name}] with distribution, low, high, basis and why on the lines below it (see {SHIPPED_UNCERTAINTY})"))
        return problems, None
    for key in body:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            problems.append(Problem(source, None, f"{name}.{key}", None, f"unknown key '{key}'",
                                    (f"did you mean '{close[0]}'? " if close else "") + "use " + ", ".join(_KEYS)))
    for key in _REQUIRED:
        if key not in body:
            problems.append(Problem(source, None, f"{name}.{key}", None, "is missing", f"add {key} = ... to [{name}]"))
    kind = body.get("distribution")
    if "distribution" in body and kind not in DISTRIBUTIONS:
        problems.append(Problem(source, None, f"{name}.distribution", repr(kind), "is not a distribution netopt draws from",
                                "write one of " + ", ".join(f'"{d}"' for d in DISTRIBUTIONS)))
    if name == OFFICE_VISITS:
        allowed_low, allowed_high, what = 0.0, OFFICE_VISITS_MAX, "a factor on the estimated visits"
    else:
        _kind, allowed_low, allowed_high = PARAMETER_RANGES[name]
        what = f"a value of {name}"
    ends = {}
    for key in ("low", "high"):
        if key not in body:
            continue
        v = body[key]
        if not _number(v):
            problems.append(Problem(source, None, f"{name}.{key}", repr(v), "must be a finite number", f"write {what}, like {key} = 1.5"))
        elif not (allowed_low <= v <= allowed_high) or (name == OFFICE_VISITS and v <= 0):
            problems.append(Problem(source, None, f"{name}.{key}", repr(v), f"is outside what {name} may be ({'above 0' if name == OFFICE_VISITS else f'{allowed_low:g}'} to {allowed_high:g})",
                                    f"write {what} in that range"))
        else:
            ends[key] = float(v)
    if len(ends) == 2 and not ends["low"] < ends["high"]:
        problems.append(Problem(source, None, f"{name}.low", repr(body["low"]), f"is not below high ({body['high']!r})", "write low < high (a value that is certain belongs in parameters.toml, not here)"))
        ends = {}
    if kind in ("loguniform", "lognormal") and ends.get("low") is not None and ends["low"] <= 0:
        problems.append(Problem(source, None, f"{name}.low", repr(body["low"]), f"must be above 0 for a {kind} distribution", "write a positive low"))
    mode = body.get("mode")
    if "mode" in body:
        if kind not in ("triangular", "lognormal"):
            problems.append(Problem(source, None, f"{name}.mode", repr(mode), f"is only for a triangular or lognormal distribution, not {kind!r}", "remove mode, or change the distribution"))
        elif not _number(mode):
            problems.append(Problem(source, None, f"{name}.mode", repr(mode), "must be a finite number", "write the most likely value (triangular) or the median (lognormal)"))
        elif len(ends) == 2 and not (ends["low"] <= mode <= ends["high"]):
            problems.append(Problem(source, None, f"{name}.mode", repr(mode), f"is outside low – high ({ends['low']:g} – {ends['high']:g})", "write a mode within the range, or leave it out (the value in force is used)"))
    sigma = body.get("sigma")
    if kind == "lognormal":
        if "sigma" not in body:
            problems.append(Problem(source, None, f"{name}.sigma", None, "is missing (a lognormal distribution needs it)", "add sigma = ..., the standard deviation of the logarithm (0.5: typically a factor 1.6 off)"))
        elif not _number(sigma) or not (0 < sigma <= 5):
            problems.append(Problem(source, None, f"{name}.sigma", repr(sigma), "must be a number above 0 and at most 5", "write the standard deviation of the logarithm, like sigma = 0.5"))
    elif "sigma" in body:
        problems.append(Problem(source, None, f"{name}.sigma", repr(sigma), f"is only for a lognormal distribution, not {kind!r}", "remove sigma, or write distribution = \"lognormal\""))
    basis = body.get("basis")
    if "basis" in body and basis not in BASES:
        problems.append(Problem(source, None, f"{name}.basis", repr(basis), "says neither where the range comes from nor that it is a judgement",
                                'write basis = "source" (derived from a figure the why cites) or basis = "judgement"'))
    why = body.get("why")
    if "why" in body and (not isinstance(why, str) or not why.strip()):
        problems.append(Problem(source, None, f"{name}.why", repr(why)[:60], "must say why the estimate varies this much", 'write why = "..." with the derivation and its source, or why it is a judgement'))
    if problems:
        return problems, None
    return [], Distribution(name=name, kind=kind, low=ends["low"], high=ends["high"], basis=basis, why=" ".join(why.split()),
                            mode=None if mode is None else float(mode), sigma=None if sigma is None else float(sigma))


def uncertainty_from_dict(raw: Mapping, source: str = "uncertainty", file_bytes: bytes = b"") -> Uncertainty:
    """An :class:`Uncertainty` from the TOML structure; every problem is reported at once.

    Raises:
      ScenarioError: naming, for each problem, the file, the key, the value, what is allowed and the fix.
    """
    problems: list[Problem] = []
    samplable = _samplable()
    found: list[Distribution] = []
    office = None
    if not raw:
        problems.append(Problem(source, None, None, None, "names no uncertain estimate",
                                f"add a table per estimate, like [decay_km] (see {SHIPPED_UNCERTAINTY})"))
    for name, body in raw.items():
        if name != OFFICE_VISITS and name not in samplable:
            if name in PARAMETER_RANGES:
                kind = PARAMETER_RANGES[name][0]
                problems.append(Problem(source, None, name, None, f"is a parameter of kind '{kind}', which cannot be sampled (only numbers can)",
                                        "remove the table; give the value in parameters.toml or a scenario's [parameters]"))
            else:
                close = difflib.get_close_matches(str(name), [*samplable, OFFICE_VISITS], n=1)
                problems.append(Problem(source, None, None, None, f"unknown table '[{name}]' (not a parameter)",
                                        (f"did you mean '[{close[0]}]'? " if close else "") + f"use {OFFICE_VISITS} or a number parameter of data/model/parameters.toml: " + ", ".join(samplable)))
            continue
        p, d = _table_problems(name, body, source)
        problems += p
        if d is None:
            continue
        if name == OFFICE_VISITS:
            office = d
        else:
            found.append(d)
    if problems:
        raise ScenarioError(problems)
    import hashlib

    return Uncertainty(parameters=tuple(sorted(found, key=lambda d: d.name)), office_visits=office, source=source,
                       sha256=hashlib.sha256(file_bytes).hexdigest() if file_bytes else "", raw=bytes(file_bytes))


def load_uncertainty(path: str | Path | None = None) -> Uncertainty:
    """Read and check an uncertainty file (default: the shipped ``data/model/uncertainty.toml``).

    Raises:
      ScenarioError: the file is missing, not TOML, or has problems (all of them, each with its fix).
    """
    path = Path(path) if path else shipped_path()
    raw, file_bytes = io.read_toml_bytes(path, "docs/robustness.md")
    return uncertainty_from_dict(raw, source=str(path), file_bytes=file_bytes)


def check_values_in_force(unc: Uncertainty, params: Parameters) -> None:
    """Raise :class:`ScenarioError` when a value in force (``parameters.toml``
    with the scenario's overrides) lies outside its sampled range, or a
    lognormal's median or a triangular's mode (the value in force) does."""
    problems = []
    for d in unc.parameters:
        v = float(getattr(params, d.name))
        if not (d.low <= v <= d.high):
            problems.append(Problem(unc.source, None, d.name, f"{v:g}", f"is the value in force (from the parameters with the scenario's overrides) and lies outside the range sampled ({d.low:g} – {d.high:g})",
                                    f"widen [{d.name}] low/high to include {v:g}, or pass an uncertainty file written for these parameters (--uncertainty)"))
    if unc.office_visits is not None and not (unc.office_visits.low <= 1.0 <= unc.office_visits.high):
        d = unc.office_visits
        problems.append(Problem(unc.source, None, OFFICE_VISITS, f"{d.low:g} – {d.high:g}", "the range must include 1 (the estimate itself)", "write low ≤ 1 ≤ high"))
    if problems:
        raise ScenarioError(problems)


# --------------------------------------------------------------------------- drawing


@dataclass(frozen=True, eq=False)
class Draw:
    """Sample ``k``: a value per sampled parameter (``values``, by name) and,
    with ``office_visits``, a factor per office (``visit_factor``, in the
    register's order; 1 for offices whose visits are not estimates)."""

    k: int
    values: dict
    visit_factor: np.ndarray | None


def stream(seed: int, k: int, name: str) -> np.random.Generator:
    """The random stream of sample ``k`` for one name: ``SeedSequence(seed, spawn_key=(k, crc32(name)))``."""
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(int(k), zlib.crc32(name.encode("utf-8")))))


def quantile(d: Distribution, centre: float, u: float) -> float:
    """The value of distribution ``d`` (mode or median ``centre``) at cumulative share ``u`` (0 ≤ u < 1)."""
    from scipy.special import ndtr, ndtri

    lo, hi = d.low, d.high
    if d.kind == "uniform":
        return lo + u * (hi - lo)
    if d.kind == "loguniform":
        return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    if d.kind == "triangular":
        c = min(max(centre, lo), hi)
        cut = (c - lo) / (hi - lo)
        if u < cut:
            return lo + math.sqrt(u * (hi - lo) * (c - lo))
        return hi - math.sqrt((1.0 - u) * (hi - lo) * (hi - c))
    if d.kind == "lognormal":
        a = (math.log(lo) - math.log(centre)) / d.sigma
        b = (math.log(hi) - math.log(centre)) / d.sigma
        pa, pb = float(ndtr(a)), float(ndtr(b))
        z = float(ndtri(pa + u * (pb - pa)))
        return min(max(centre * math.exp(d.sigma * z), lo), hi)
    raise ValueError(f"unknown distribution {d.kind!r}")


def draw(unc: Uncertainty, params: Parameters, seed: int, k: int, office_ids: Sequence[str], estimated: np.ndarray | None = None) -> Draw:
    """Sample ``k`` of run ``seed``: every parameter of ``unc`` around its value
    in ``params``, and a factor per office of ``office_ids`` (1 where
    ``estimated`` is False: a register's own figure is data, not an estimate)."""
    values = {}
    for d in unc.parameters:
        u = float(stream(seed, k, d.name).random())
        values[d.name] = quantile(d, d.centre(getattr(params, d.name)), u)
    factor = None
    if unc.office_visits is not None:
        d = unc.office_visits
        est = np.ones(len(office_ids), bool) if estimated is None else np.asarray(estimated, bool)
        factor = np.ones(len(office_ids))
        for i, oid in enumerate(office_ids):
            if est[i]:
                factor[i] = quantile(d, d.centre(1.0), float(stream(seed, k, f"{OFFICE_VISITS}:{oid}").random()))
    return Draw(k=int(k), values=values, visit_factor=factor)
