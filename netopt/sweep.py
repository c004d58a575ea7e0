"""The frontier of saving against access: one optimal plan per cut.

:func:`sweep` solves a scenario's last stage for each cut in a range and
returns one row per cut (saving, access metrics, status, gap);
:func:`frontier_svg` draws it as a small self-contained SVG chart.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable

import pandas as pd

from .data import Network
from .errors import InfeasibleError
from .scenario import Scenario, Stage

__all__ = ["sweep", "parse_cuts", "frontier_svg"]


def parse_cuts(text: str) -> list[float]:
    """``START:STOP:STEP`` (STOP inclusive) or a comma list, in MSEK per year (at most 500 cuts)."""
    from .errors import ScenarioError

    try:
        if ":" in text:
            a, b, c = (float(x) for x in text.split(":"))
            if not all(math.isfinite(v) for v in (a, b, c)) or c <= 0 or b < a or (b - a) / c > 500:
                raise ValueError
            n = int(round((b - a) / c))
            cuts = [round(a + k * c, 6) for k in range(n + 1) if a + k * c <= b + 1e-9]
        else:
            cuts = [float(x) for x in text.split(",") if x.strip()]
            if not all(math.isfinite(x) for x in cuts):
                raise ValueError
    except ValueError:
        raise ScenarioError(f"--cuts {text!r}: write START:STOP:STEP (e.g. 0:200:10) or a list (50,100,150) in MSEK") from None
    if not cuts or len(cuts) > 500:
        raise ScenarioError(f"--cuts {text!r}: give between 1 and 500 cuts")
    return cuts


def sweep(network: Network, scenario: Scenario, cuts: Iterable[float], progress: Callable[[int, int, float], None] | None = None, *, params=None) -> pd.DataFrame:
    """Solve the scenario's last stage for every cut (MSEK); infeasible cuts are rows with status INFEASIBLE.

    The visit and cost models are calibrated once. The cuts are solved from the
    largest down, each starting from the plan of the next larger cut (which
    meets the smaller cut too); rows come back in the order of ``cuts``. Each
    cut has the scenario's ``solver.time_limit_s``.
    """
    import dataclasses

    from .instance import prepare
    from .plan import solve_prepared

    cuts = list(cuts)
    last = scenario.stages[-1]
    base = prepare(network, scenario.with_(stages=(last,)), params)
    rows: dict[int, dict] = {}
    start = None
    infeasible_from = None  # the smallest cut proven infeasible so far
    done = 0
    for k in sorted(range(len(cuts)), key=lambda i: (-cuts[i], i)):
        cut = float(cuts[k])
        sc = scenario.with_(stages=(Stage(year=last.year, cut_msek=cut, flexible_allowance_msek=last.flexible_allowance_msek),))
        if infeasible_from is not None and cut >= infeasible_from[0]:
            rows[k] = {"cut_msek": cuts[k], "status": "INFEASIBLE", "note": infeasible_from[1]}  # a larger cut than one proven infeasible
        else:
            inst = base.instance.with_(budgets_sek=(base.costs.baseline_cost_sek - cut * 1e6,))
            prep = dataclasses.replace(base, scenario=sc, instance=inst)
            try:
                plan = solve_prepared(prep, start=start)
                start = tuple(st.modes for st in plan.stages)
                s = plan.summary()
                rows[k] = {
                    "cut_msek": cuts[k], "status": s["status"], "gap": s["gap"], "savings_msek": s["savings_msek"], "cost_msek": s["cost_msek"],
                    "offices_open": s["offices_open"], "offices_flexible": s["offices_flexible"], "offices_closed": s["offices_closed"],
                    "population_mean_distance_km": s["population_mean_distance_km"], "population_p90_distance_km": s["population_p90_distance_km"],
                    "population_share_within_30km": s["population_share_within_30km"], "visits_lost": s["visits_lost"], "solve_seconds": s["solve_seconds"],
                }
            except InfeasibleError as exc:
                note = str(exc).split(". ")[0]
                if exc.explanation.get("status") == "INFEASIBLE":
                    infeasible_from = (cut, note)
                    rows[k] = {"cut_msek": cuts[k], "status": "INFEASIBLE", "note": note}
                else:
                    rows[k] = {"cut_msek": cuts[k], "status": "NO_PLAN", "note": note}
        done += 1
        if progress:
            progress(done, len(cuts), cut)
    return pd.DataFrame([rows[k] for k in range(len(cuts))])


def frontier_svg(frame: pd.DataFrame, title: str) -> str:
    """A standalone HTML page with an SVG chart: cut (MSEK) against mean distance (km) and share within 30 km."""
    ok = frame[frame["status"] != "INFEASIBLE"]
    W, H, L, B = 720, 420, 70, 50
    if ok.empty:
        body = "<p>No feasible cut.</p>"
    else:
        x0, x1 = float(frame["cut_msek"].min()), float(frame["cut_msek"].max()) or 1.0
        y = ok["population_mean_distance_km"].astype(float)
        y0, y1 = float(y.min()) * 0.98, float(y.max()) * 1.02 + 1e-9
        sx = lambda v: L + (v - x0) / max(x1 - x0, 1e-9) * (W - L - 20)
        sy = lambda v: H - B - (v - y0) / max(y1 - y0, 1e-9) * (H - B - 30)
        pts = " ".join(f"{sx(c):.1f},{sy(d):.1f}" for c, d in zip(ok["cut_msek"], y))
        dots = "".join(f'<circle cx="{sx(c):.1f}" cy="{sy(d):.1f}" r="3.5" fill="#0072B2"><title>{c:g} MSEK: {d:.2f} km, {100 * s:.1f} % within 30 km</title></circle>' for c, d, s in zip(ok["cut_msek"], y, ok["population_share_within_30km"]))
        ticks = "".join(f'<text x="{sx(c):.1f}" y="{H - B + 18}" font-size="11" text-anchor="middle">{c:g}</text>' for c in frame["cut_msek"][:: max(1, len(frame) // 10)])
        yt = "".join(f'<text x="{L - 8}" y="{sy(v):.1f}" font-size="11" text-anchor="end">{v:.2f}</text>' for v in [y0, (y0 + y1) / 2, y1])
        body = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img">'
            f'<line x1="{L}" y1="{H - B}" x2="{W - 10}" y2="{H - B}" stroke="#333"/><line x1="{L}" y1="20" x2="{L}" y2="{H - B}" stroke="#333"/>'
            f'<polyline points="{pts}" fill="none" stroke="#0072B2" stroke-width="2"/>{dots}{ticks}{yt}'
            f'<text x="{(W + L) / 2}" y="{H - 10}" font-size="12" text-anchor="middle">Cut against 2024 (MSEK per year)</text>'
            f'<text x="16" y="{(H - B) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 {(H - B) / 2})">Mean distance to nearest office (km)</text></svg>'
        )
    infeasible = frame[frame["status"] == "INFEASIBLE"]["cut_msek"].tolist()
    note = f"<p>Infeasible cuts (no plan keeps every FA-region served): {', '.join(f'{c:g}' for c in infeasible)} MSEK.</p>" if infeasible else ""
    return f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head><body style="font-family:sans-serif"><h1 style="font-size:18px">{html.escape(title)}</h1>{body}{note}</body></html>\n'
