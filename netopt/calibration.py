"""The calibration report: how well the visit and cost models reproduce the public figures.

:func:`calibration_report` returns what ``netopt calibrate --json`` prints:
what the baseline was calibrated to (and flags when the register is far from
the national reference), predicted visits per SSC region against table 25, the
national total, the total cost against 1 003.1 MSEK, cost per visit by office
size, and every public per-office figure (``data/offices/public_figures.csv``)
against the model's estimate, with whether it lies within ±25 %. A figure is
compared like for like: with the model on the register's offices open in the
figure's year, at that year's visits per SSC region (table 25 of the annual
report gives 2022–2024, ``data/model/visits_by_region.csv``), and the model on
today's network is reported beside it.

Small pure functions do the work, so reports and ``plan.csv`` use the same
figures: :func:`calibration_basis`, :func:`public_figure_checks` and
:func:`public_figure_marks`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .costs import CostModel, fit_costs
from .data import Network
from .errors import DataError, Problem
from .params import REGIONS, Parameters
from .visits import VisitModel, demand_point_visits, existing_offices, fit_visits

__all__ = [
    "calibration_report",
    "calibration_basis",
    "load_public_figures",
    "public_figure_checks",
    "public_figure_marks",
    "contradicted",
    "met_only_then",
    "figure_year",
    "comparison_year",
    "offices_open_in",
    "visit_level",
    "load_visits_by_year",
    "REFERENCE_YEAR",
    "OPEN_DAYS_PER_YEAR",
    "TOLERANCE",
]

#: The year the calibration reproduces (the annual report 2024: table 25, 1 003.1 MSEK).
REFERENCE_YEAR = 2024
#: Days an office is open per year (weekdays less public holidays), for visits per day.
OPEN_DAYS_PER_YEAR = 250
#: A model value "agrees" with a public figure [low, high] when it lies in
#: [(1 − TOLERANCE)·low, (1 + TOLERANCE)·high].
TOLERANCE = 0.25
#: A register whose totals differ from the national reference by more than this
#: share (or that has fewer than FAR_OFFICE_SHARE of its offices) is flagged.
FAR_TOTAL_SHARE = 0.05
FAR_OFFICE_SHARE = 2 / 3

FIGURE_MEASURES = ("visits_per_day", "rank", "days_open_per_week")
FIGURE_SCOPES = ("office", "municipality")
FIGURE_USES = ("target", "compare", "info")


def public_figures_path() -> Path:
    """The shipped table of public per-office figures."""
    return io.DATA_DIR / "offices" / "public_figures.csv"


def load_public_figures(path: str | Path | None = None) -> pd.DataFrame:
    """Public per-office figures (default: ``data/offices/public_figures.csv``).

    Columns: ``office_id, office_name, measure, low, high, year, scope, use,
    figure, how, source_urls, quote``; ``low``/``high`` as floats (``high`` NaN
    for a lower bound). Raises :class:`DataError` naming file, line and column.
    """
    path = Path(path) if path else public_figures_path()
    frame = io.read_table(path, required=("office_id", "measure", "low", "high", "scope", "use", "figure"))
    problems = []
    name = str(path)
    lows, highs = [], []
    for idx, r in frame.iterrows():
        line = int(idx) + 2
        for col, allowed in (("measure", FIGURE_MEASURES), ("scope", FIGURE_SCOPES), ("use", FIGURE_USES)):
            if r[col] not in allowed:
                problems.append(Problem(name, line, col, r[col], f"unknown {col}", f"use one of {', '.join(allowed)}"))
        lo = _number(r["low"])
        hi = np.nan if r["high"].strip() == "" else _number(r["high"])
        if lo is None or lo < 0:
            problems.append(Problem(name, line, "low", r["low"], "low is not a number ≥ 0", "write the figure (the lower end of a range)"))
        if hi is None or (lo is not None and hi == hi and hi < lo):
            problems.append(Problem(name, line, "high", r["high"], "high is not a number ≥ low", "write the upper end of the range, or leave it empty for a lower bound"))
        lows.append(lo if lo is not None else np.nan)
        highs.append(hi if hi is not None else np.nan)
    if problems:
        raise DataError(problems)
    frame = frame.copy()
    frame["low"], frame["high"] = np.array(lows, float), np.array(highs, float)
    return frame


def _number(text: str) -> float | None:
    try:
        x = float(str(text).strip())
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _deviation(value: float, low: float, high: float) -> float:
    """Signed share by which ``value`` lies outside [low, high] (0 inside; high NaN = no upper end)."""
    if value < low:
        return (value - low) / low if low > 0 else 0.0
    if high == high and value > high:
        return (value - high) / high
    return 0.0


def figure_year(text) -> int | None:
    """The year a public figure describes: the first year in its ``year`` text
    ("2023", "c. 2021", "2008 (plan)"); None when it names none."""
    m = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", str(text))
    return int(m.group(1)) if m else None


def offices_open_in(network: Network, year: int | None) -> np.ndarray:
    """The register's offices open in ``year``: those open today that had opened
    *before* that year (``opened_year`` < year). An office without an opening
    year counts as open; ``year`` None gives today's network.

    A figure describes a year (visit statistics, or an article's "a day"):
    an office that opened during that year served only part of it and is
    not counted; docs/calibration.md says what that changes.
    """
    existing = existing_offices(network)
    off = network.offices
    if year is None or "opened_year" not in off.columns:
        return existing.copy()
    opened = pd.to_numeric(off["opened_year"].astype(str).str.strip().replace("", np.nan), errors="coerce").to_numpy(float)
    return existing & ~(opened >= year)


def load_visits_by_year(path: str | Path | None = None) -> pd.DataFrame:
    """Visits per SSC region and year (default ``data/model/visits_by_region.csv``:
    the annual report 2024, table 25, for 2022–2024). Columns ``ssc_region, year, visits``."""
    path = Path(path) if path else io.DATA_DIR / "model" / "visits_by_region.csv"
    frame = io.read_table(path, required=("ssc_region", "year", "visits"))
    problems = []
    for idx, r in frame.iterrows():
        for col in ("year", "visits"):
            if not str(r[col]).strip().isdigit():
                problems.append(Problem(str(path), int(idx) + 2, col, r[col], f"{col} is not a whole number", f"write the {col} as digits"))
    if problems:
        raise DataError(problems)
    return pd.DataFrame({"ssc_region": frame["ssc_region"], "year": frame["year"].astype(int), "visits": frame["visits"].astype(int)})


def visit_level(network: Network, year: int | None, table: pd.DataFrame | None = None) -> tuple[np.ndarray | None, int]:
    """Per demand point, the visits of ``year`` relative to the reference year
    (:data:`REFERENCE_YEAR`) in its SSC region, from table 25; and the year
    whose level that is. ``(None, REFERENCE_YEAR)`` when the table has no
    such year (the calibrated level stays)."""
    table = load_visits_by_year() if table is None else table
    have = table.pivot_table(index="ssc_region", columns="year", values="visits", aggfunc="sum")
    if year is None or year == REFERENCE_YEAR or year not in have.columns or REFERENCE_YEAR not in have.columns:
        return None, REFERENCE_YEAR
    ratio = (have[year] / have[REFERENCE_YEAR]).to_dict()
    national = float(have[year].sum() / have[REFERENCE_YEAR].sum())
    return np.array([ratio.get(r, national) for r in network.demand["ssc_region"]], float), year


def public_figure_checks(network: Network, model: VisitModel, figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each public figure against the visit model, like for like.

    A figure describes its own year: an office that opened since then did not
    take its visitors, and SSC's visits were at that year's level. So the
    figure is compared with the calibrated model (the optimiser's) evaluated
    on the register's offices open in that year (:func:`offices_open_in`),
    at that year's visits per SSC region where table 25 gives them
    (:func:`visit_level`; 2022–2024). The model's value on today's network
    is given beside it.

    Args:
      network: the network.
      model: its calibrated :class:`~netopt.visits.VisitModel`.
      figures: from :func:`load_public_figures` (default: the shipped table).

    Returns one row per figure whose office is in the register and open
    today: ``office_id, office_name, figure, year, measure, scope, use, how,
    public_low, public_high, model, deviation_pct, within_tolerance,
    network_year, offices_opened_since, visit_level_year, model_2024,
    deviation_pct_2024, within_tolerance_2024``. ``model`` is visits per day
    at 250 open days (or a rank among the offices open then);
    ``within_tolerance`` is None for figures that are not about visits;
    ``offices_opened_since`` lists the registered offices not yet open in
    ``network_year`` (None: today's network); for a figure about one office,
    ``visitors_moved_to`` lists those of them that take some of its visitors
    today (largest share first; ``visitors_moved_to_opened`` their opening
    years) and ``visitors_moved_share`` is the % of its visits then that go to
    them today, in the same model. Offices that opened during the figure's year
    itself count as not yet open; when counting them open changes the
    comparison, ``model_with_opened_in_year`` /
    ``within_tolerance_with_opened_in_year`` give it and ``opened_in_year``
    lists those of them that take the office's visitors (None otherwise).
    ``visits_given``: the register gives the
    office's own visits (the model is scaled to them, so the check is no test
    of the model and no mark is made).
    """
    figures = load_public_figures() if figures is None else figures
    off = network.offices
    existing = existing_offices(network)
    ids = off["office_id"].tolist()
    muni = off["municipality_code"].to_numpy()
    table = load_visits_by_year()
    cache: dict = {}
    points: dict = {}

    def assign(mask):
        """(each demand point's office, its visits at the reference level) with ``mask`` open, computed once per network."""
        key = mask.tobytes()
        if key not in points:
            points[key] = demand_point_visits(network, model, mask)
        return points[key]

    def by_office(mask, level):
        near, v = assign(mask)
        return np.bincount(near, weights=v if level is None else v * level, minlength=len(ids))

    def moved(i, then, now, level):
        near_then, v = assign(then)
        return _moved_visitors(near_then, v if level is None else v * level, assign(now)[0], i)

    def visits_in(year, office=None):
        """(offices open, visits per office with NaN where closed, level year) in ``year`` (None: today),
        with ``office`` open in any case (a figure about an office is about a year it was open)."""
        mask = offices_open_in(network, year)
        if office is not None:
            mask[office] = True
        key = (year, mask.tobytes())
        if key not in cache:
            level, level_year = visit_level(network, year, table)
            if level is not None or not np.array_equal(mask, existing):
                v = by_office(mask, level)
            else:
                v = np.asarray(model.baseline_visits, float)
            cache[key] = (mask, np.where(mask, v, np.nan), level_year)
        return cache[key]

    rows = []
    for _, f in figures.iterrows():
        if f["office_id"] not in ids:
            continue
        i = ids.index(f["office_id"])
        if not existing[i]:
            continue
        year = figure_year(f.get("year", ""))
        mask, v, level_year = visits_in(year, i)
        _, v_now, _ = visits_in(None)
        lo, hi = float(f["low"]), float(f["high"])
        model_then, dev, within = _compare(f, i, mask, v, muni, lo, hi)
        model_now, dev_now, within_now = _compare(f, i, existing, v_now, muni, lo, hi)
        changed = year is not None and not np.array_equal(mask, existing)
        # the offices that opened during the figure's year itself count as not yet open; say what counting them changes
        also = None
        if changed and f["measure"] in ("rank", "visits_per_day"):
            mask_y = offices_open_in(network, year + 1)
            mask_y[i] = True
            if not np.array_equal(mask_y, mask):
                level = visit_level(network, year, table)[0]
                v_y = np.where(mask_y, by_office(mask_y, level), np.nan)
                value, _, ok = _compare(f, i, mask_y, v_y, muni, lo, hi)
                if value != model_then:  # only when counting them changes the comparison; name those that take the office's visitors
                    takers = [ids[k] for k, _ in moved(i, mask, mask_y, level)] if f["scope"] == "office" else []
                    also = (takers, value, ok)
        went = moved(i, mask, existing, visit_level(network, year, table)[0]) if changed and f["scope"] == "office" else None
        rows.append(
            {
                "office_id": f["office_id"],
                "office_name": off["office_name"].iat[i],
                "figure": f["figure"],
                "year": f.get("year", ""),
                "measure": f["measure"],
                "scope": f["scope"],
                "use": f["use"],
                "how": f.get("how", ""),
                "public_low": lo,
                "public_high": None if hi != hi else hi,
                "model": model_then,
                "deviation_pct": dev,
                "within_tolerance": within,
                "network_year": year if changed else None,
                "visits_given": bool(not model.visits_estimated[i]),
                "offices_opened_since": [ids[k] for k in np.flatnonzero(existing & ~mask)] if changed else None,
                "visitors_moved_to": None if went is None else [ids[k] for k, _ in went],
                "visitors_moved_to_opened": None if went is None else [_opened_year(off, k) for k, _ in went],
                "visitors_moved_share": None if went is None else round(100.0 * sum(x for _, x in went), 1),
                "opened_in_year": None if also is None else also[0],
                "model_with_opened_in_year": None if also is None else also[1],
                "within_tolerance_with_opened_in_year": None if also is None else also[2],
                "visit_level_year": level_year,
                "model_2024": model_now,
                "deviation_pct_2024": dev_now,
                "within_tolerance_2024": within_now,
            }
        )
    columns = ["office_id", "office_name", "figure", "year", "measure", "scope", "use", "how", "public_low", "public_high", "model",
               "deviation_pct", "within_tolerance", "network_year", "visits_given", "offices_opened_since", "visitors_moved_to", "visitors_moved_to_opened", "visitors_moved_share", "opened_in_year", "model_with_opened_in_year",
               "within_tolerance_with_opened_in_year", "visit_level_year", "model_2024",
               "deviation_pct_2024", "within_tolerance_2024"]
    return pd.DataFrame(rows, columns=columns, dtype=object) if rows else pd.DataFrame(columns=columns)


def _opened_year(off: pd.DataFrame, k: int) -> int | None:
    """The register's opening year of office ``k`` (None when not given)."""
    if "opened_year" not in off.columns:
        return None
    y = pd.to_numeric(pd.Series([off["opened_year"].iat[k]]), errors="coerce").iat[0]
    return None if pd.isna(y) else int(y)


def _moved_visitors(near_then: np.ndarray, v_then: np.ndarray, near_now: np.ndarray, i: int) -> list[tuple[int, float]]:
    """The offices that took visitors of office ``i`` between two networks.

    Args:
      near_then, near_now: each demand point's office on the earlier and the
        later network, shape (m,).
      v_then: each demand point's visits per year on the earlier network, shape (m,).
      i: the office.

    Returns (office index, share of ``i``'s visits then that now go there),
    largest share first (ties by index): the demand points whose office was
    ``i`` then and is another office now, weighted by their visits then.
    """
    mine = near_then == i
    total = float(v_then[mine].sum())
    if total <= 0:
        return []
    left = mine & (near_now != i)
    taken = np.bincount(near_now[left], weights=v_then[left], minlength=int(max(near_then.max(), near_now.max())) + 1)
    order = sorted(np.flatnonzero(taken > 0), key=lambda k: (-taken[k], k))
    return [(int(k), float(taken[k] / total)) for k in order]


def _compare(f, i: int, mask: np.ndarray, v: np.ndarray, muni: np.ndarray, lo: float, hi: float):
    """(model value, deviation %, within tolerance) of one figure for visits ``v`` (NaN at offices not open)."""
    model = None
    if f["measure"] == "rank":
        rank = pd.Series(v).rank(ascending=False, method="min").to_numpy()
        model = float(rank[i])
    elif f["measure"] == "visits_per_day":
        if f["scope"] == "municipality":
            model = float(np.nansum(v[mask & (muni == muni[i])])) / OPEN_DAYS_PER_YEAR
        else:
            model = float(v[i]) / OPEN_DAYS_PER_YEAR
    within = dev = None
    if model is not None:
        if f["measure"] == "rank":  # a rank has no ± share: it is met or not
            within = bool(lo <= model <= (hi if hi == hi else np.inf))
        else:
            dev = round(100.0 * _deviation(model, lo, hi), 1)
            within = bool((1 - TOLERANCE) * lo <= model <= ((1 + TOLERANCE) * hi if hi == hi else np.inf))
    return (None if model is None else round(model, 1)), dev, within


def contradicted(checks: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`public_figure_checks` whose estimate contradicts a
    figure about the office itself, like for like (offices whose visits the
    register gives are no estimates; None = not comparable)."""
    return checks[(checks["scope"] == "office") & (checks["within_tolerance"] == False) & (checks["visits_given"] != True)]  # noqa: E712


def met_only_then(checks: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`public_figure_checks` whose estimate meets a figure
    about the office only on the network of the figure's year: within then,
    not today, with offices opened since taking its visitors (no estimate when
    the register gives the office's visits)."""
    return checks[
        (checks["scope"] == "office") & (checks["within_tolerance"] == True) & (checks["within_tolerance_2024"] == False)  # noqa: E712
        & (checks["visits_given"] != True)  # noqa: E712
        & checks["visitors_moved_to"].map(lambda m: bool(m))
    ]


def public_figure_marks(checks: pd.DataFrame) -> dict[str, str]:
    """office_id → a short mark for offices whose estimate contradicts a public
    figure about the office itself (for ``plan.csv`` and the report), judged
    like for like (:func:`public_figure_checks`)."""
    marks = {}
    bad = contradicted(checks)
    for _, r in bad.iterrows():
        then = _then(r)
        if r["measure"] == "rank":
            text = f"public figure: {r['figure']} ({r['year']}); estimate ranks it {r['model']:.0f}{then}"
        else:
            open_end = r["public_high"] is None or pd.isna(r["public_high"])
            rng = f"{r['public_low']:.0f}" + ("" if open_end or r["public_high"] == r["public_low"] else f"–{r['public_high']:.0f}")
            bound = "at least " if open_end else ""
            text = f"public figure: {bound}{rng} visits a day ({r['year']}); estimate {r['model']:.1f} a day{then}"
        marks[r["office_id"]] = text
    return marks


def comparison_year(row) -> int | None:
    """The year a check's model value is for, when it is not today's network at
    the reference level (None otherwise)."""
    year = row.get("network_year")
    level = row.get("visit_level_year")
    if year is not None and year == year:
        return int(year)
    if level is not None and level == level and int(level) != REFERENCE_YEAR:
        return int(level)
    return None


def _then(row) -> str:
    year = comparison_year(row)
    return "" if year is None else f" in {year}"


def calibration_basis(network: Network, vm: VisitModel, cm: CostModel, params: Parameters) -> dict:
    """What the 2024 baseline was calibrated to, in numbers and one sentence, with flags.

    Flags (calibration to the national reference): the register has fewer
    than two thirds of the reference's offices; an SSC region of table 25 has
    no office in it; its own figures move the visits or the cost more than 5 %
    from the reference.
    """
    existing = existing_offices(network)
    off = network.offices
    n = int(existing.sum())
    visits = float(vm.baseline_visits[existing].sum())
    cost = cm.baseline_cost_sek / 1e6
    n_v = int((~vm.visits_estimated & existing).sum())
    n_c = int((~cm.cost_estimated & existing).sum())
    flags = []
    ref_n, ref_v, ref_c = params.reference_offices_total, params.reference_visits_total, params.reference_cost_msek
    if vm.calibrated_to == "reference":
        missing = [r for r in REGIONS if r in params.reference_visits_by_region and not (existing & (off["ssc_region"] == r).to_numpy()).any()]
        if n < FAR_OFFICE_SHARE * ref_n:
            flags.append(
                f"the register has {n} of the reference's {ref_n} offices, so its offices carry the whole country's visits"
                + (f" and {cm.fixed_scale:.2f} times their own fixed costs" if cm.fixed_scale != 1.0 else "")
                + "; for a regional study give each office's own visits and set calibrate_to_reference = false"
            )
        if missing:
            flags.append(f"SSC regions with no office in the register: {', '.join(missing)} (their visits in table 25 cannot be placed)")
        if abs(visits - ref_v) > FAR_TOTAL_SHARE * ref_v:
            flags.append(f"visits {_n(visits)} are {100 * (visits - ref_v) / ref_v:+.1f} % from the reference {_n(ref_v)}")
        if abs(cost - ref_c) > FAR_TOTAL_SHARE * ref_c:
            flags.append(f"the baseline cost {_n(cost, 1)} MSEK is {100 * (cost - ref_c) / ref_c:+.1f} % from the reference {_n(ref_c, 1)} MSEK")
        own = (f"; {n_v} {'office keeps its' if n_v == 1 else 'offices keep their'} own visits and {n_c} {'its' if n_c == 1 else 'their'} own cost") if (n_v or n_c) else ""
        text = (
            f"Baseline calibrated to the national reference (annual report 2024: {_n(ref_v)} visits in six SSC regions, {_n(ref_c, 1)} MSEK, {ref_n} offices) "
            f"on a register of {n} offices{own}: {_n(visits)} visits, {_n(cost, 1)} MSEK."
        )
    else:
        text = (
            f"Baseline calibrated to the register's own totals ({n} offices, {n_v} with their own visits, {n_c} with their own cost; "
            f"unit costs from the annual report 2024): {_n(visits)} visits, {_n(cost, 1)} MSEK. The national totals are not used."
        )
    return {
        "calibrated_to": vm.calibrated_to,
        "statement": text,
        "flags": flags,
        "offices": n,
        "offices_reference": ref_n,
        "offices_with_given_visits": n_v,
        "offices_with_given_cost": n_c,
        "visits_total": visits,
        "visits_reference": ref_v,
        "cost_total_msek": cost,
        "cost_reference_msek": ref_c,
        "fixed_cost_scale": cm.fixed_scale,
    }


def _n(x: float, decimals: int = 0) -> str:
    """A number with a thin space between thousands: 2 758 758, 1 003.1."""
    return f"{x:,.{decimals}f}".replace(",", " ")


def calibration_report(network: Network, params: Parameters) -> dict:
    """Calibration figures (visits per year, MSEK per year, SEK per visit)."""
    vm = fit_visits(network, params)
    cm = fit_costs(network, vm, params)
    off = network.offices
    existing = existing_offices(network)
    v = np.where(existing, vm.baseline_visits, 0.0)
    by_region = pd.Series(v).groupby(off["ssc_region"].to_numpy()).sum()
    visits_by_region = {}
    for r in REGIONS:
        target = params.reference_visits_by_region.get(r)
        pred = float(by_region.get(r, 0.0))
        visits_by_region[r] = {
            "predicted": round(pred, 1),
            "annual_report": target,
            "error_pct": None if not target else round(100 * (pred - target) / target, 4),
        }
    cost = np.where(existing, cm.fixed_full_sek + cm.staff_per_visit_sek * v, 0.0)
    total_cost = float(cost.sum()) / 1e6
    cpv = np.divide(cost, v, out=np.full(len(v), np.nan), where=v > 0)
    bins = [0, 5000, 10000, 20000, 40000, 80000, np.inf]
    labels = ["<5k", "5k–10k", "10k–20k", "20k–40k", "40k–80k", "≥80k"]
    size = pd.cut(v[existing], bins=bins, labels=labels, right=False)
    tab = pd.DataFrame({"size": size, "cost": cost[existing], "visits": v[existing]}).groupby("size", observed=False).agg(offices=("cost", "size"), cost=("cost", "sum"), visits=("visits", "sum"))
    by_size = {
        str(k): {"offices": int(r["offices"]), "cost_per_visit_sek": None if r["visits"] <= 0 else round(float(r["cost"] / r["visits"]), 1)}
        for k, r in tab.iterrows()
    }
    ids = list(off["office_id"])
    checks = public_figure_checks(network, vm)
    figures = [{k: (None if isinstance(x, float) and x != x else x) for k, x in r.items()} for r in checks.to_dict("records")]
    targets = checks[checks["use"] == "target"]
    order = np.argsort(-v, kind="stable")
    return {
        "calibration_basis": calibration_basis(network, vm, cm, params),
        "visits_total": round(float(v.sum()), 1),
        "visits_total_annual_report": params.reference_visits_total,
        "visits_total_error_pct": round(100 * (float(v.sum()) - params.reference_visits_total) / params.reference_visits_total, 4),
        "visits_by_region": {r: d["predicted"] for r, d in visits_by_region.items()},
        "visits_by_region_detail": visits_by_region,
        "cost_total_msek": round(total_cost, 3),
        "cost_total_sek": round(float(cost.sum())),
        "cost_total_annual_report_msek": params.reference_cost_msek,
        "cost_total_error_pct": round(100 * (total_cost - params.reference_cost_msek) / params.reference_cost_msek, 4),
        "cost_per_visit_sek": round(total_cost * 1e6 / float(v.sum()), 1) if v.sum() > 0 else None,
        "cost_per_visit_by_office_size": by_size,
        "cost_per_visit_sek_min_max": [round(float(np.nanmin(cpv)), 1), round(float(np.nanmax(cpv)), 1)] if np.isfinite(cpv).any() else None,
        "rho_by_region": {k: round(x, 5) for k, x in vm.rho_by_region.items()},
        "parameters": {
            "staff_per_visit_sek": round(params.staff_per_visit_sek, 2),
            "site_per_visit_sek": round(params.site_per_visit_sek, 2),
            "fixed_cost_scale": round(cm.fixed_scale, 5),
            "decay_km": params.decay_km,
            "floor": params.floor,
            "detour_factor": params.detour_factor,
            "open_days_per_year": OPEN_DAYS_PER_YEAR,
            "tolerance": TOLERANCE,
        },
        "busiest_offices": [{"office_id": ids[i], "visits_per_year": round(float(v[i]), 1), "visits_per_day": round(float(v[i]) / OPEN_DAYS_PER_YEAR, 1)} for i in order[:10]],
        "public_figures": figures,
        "public_figure_targets": {"total": int(len(targets)), "within_tolerance": int((targets["within_tolerance"] == True).sum())},  # noqa: E712
        "offices": int(existing.sum()),
        "offices_with_given_visits": int((~vm.visits_estimated & existing).sum()),
        "offices_with_given_cost": int((~cm.cost_estimated & existing).sum()),
    }
