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
from .solve import solve

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
    """Solve the scenario's last stage for every cut (MSEK); infeasible cuts are rows with status INFEASIBLE."""
    cuts = list(cuts)
    last = scenario.stages[-1]
    rows = []
    for k, cut in enumerate(cuts):
        sc = scenario.with_(stages=(Stage(year=last.year, cut_msek=float(cut), flexible_allowance_msek=last.flexible_allowance_msek),))
        try:
            plan = solve(network, sc, params=params)
            s = plan.summary()
            rows.append({
                "cut_msek": cut, "status": s["status"], "gap": s["gap"], "savings_msek": s["savings_msek"], "cost_msek": s["cost_msek"],
                "offices_kept": s["offices_kept"], "offices_flexible": s["offices_flexible"], "offices_open": s["offices_open"], "offices_closed": s["offices_closed"],
                "population_mean_distance_km": s["population_mean_distance_km"], "population_p90_distance_km": s["population_p90_distance_km"],
                "population_share_within_30km": s["population_share_within_30km"], "visits_lost": s["visits_lost"], "solve_seconds": s["solve_seconds"],
            })
        except InfeasibleError as exc:
            rows.append({"cut_msek": cut, "status": "INFEASIBLE", "note": str(exc).split(".")[0]})
        if progress:
            progress(k + 1, len(cuts), cut)
    return pd.DataFrame(rows)


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
