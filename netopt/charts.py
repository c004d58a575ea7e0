"""Figures for the printable report and the frontier, drawn with matplotlib.

Each function returns one ``<svg>`` element (text) to embed in an HTML page:
the static overview map of a plan (:func:`overview_map_svg`), the distance
distribution before and after (:func:`distance_distribution_svg`) and the
frontier of saving against access (:func:`frontier_svg`). Text stays text
(``svg.fonttype = none``), so a page is searchable and prints sharply.

Deterministic: no dates or versions in the file, a fixed ``svg.hashsalt``
per figure (ids are unique within a page), rows in a fixed order, so the
same tables give the same bytes. matplotlib is used through its
object-oriented API only (no pyplot, no global settings changed).

Axes are honest: every value axis starts at zero, ticks are round numbers.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd

from .i18n import Texts

__all__ = ["distance_distribution_svg", "overview_map_svg", "frontier_svg", "frontier_figure", "DISTANCE_BANDS_KM", "FRONTIER_MEASURES"]

#: Distance bands (km) of the distance distribution: [0, 5), [5, 10) … [100, ∞).
DISTANCE_BANDS_KM = (0, 5, 10, 20, 30, 50, 100, math.inf)
#: Frontier measures: (column of frontier.csv, text key, scale, decimals).
FRONTIER_MEASURES = (
    ("population_mean_distance_km", "chart.frontier.mean", 1.0, 1),
    ("population_p90_distance_km", "chart.frontier.p90", 1.0, 1),
    ("population_share_within_30km", "chart.frontier.within", 100.0, 1),
    ("visits_lost", "chart.frontier.lost", 1.0, 0),
)

_BEFORE = "#9a9a9a"
_AFTER = "#0072B2"
_RC = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": True,
}


def _figure(width_in: float, height_in: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=100)


def _svg(fig, salt: str) -> str:
    """The figure as one <svg> element: no XML prologue, no date, fixed ids."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"netopt-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # element ids of matplotlib's own (figure_1, axes_1 …) repeat between figures: make them the figure's own
    return re.sub(r'id="((?:figure|axes|patch|line2d|text|xtick|ytick|matplotlib\.axis|PathCollection|PolyCollection|legend|LineCollection)_[0-9]+)"', lambda m: f'id="{salt}-{m.group(1)}"', text)


def _axis_format(tx: Texts, decimals: int = 0, suffix: str = ""):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: tx.num(v, decimals, sep="\u2009") + suffix)


def _round_ticks(ax, axis: str = "y", nbins: int = 5) -> None:
    from matplotlib.ticker import MaxNLocator

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10], min_n_ticks=3))


def _decimals_for(ax, axis: str = "y") -> int:
    """Decimals the tick values need (0 for 0, 5, 10; 1 for 0.5 steps …)."""
    ticks = ax.get_yticks() if axis == "y" else ax.get_xticks()
    for d in range(0, 4):
        if all(abs(t * 10**d - round(t * 10**d)) < 1e-9 for t in ticks):
            return d
    return 3


def distance_distribution_svg(distances_km: pd.DataFrame, tx: Texts, *, width_in: float = 3.5, height_in: float = 2.3) -> str:
    """Population by distance to the nearest office, before and after the plan (% of inhabitants per band)."""
    w = distances_km["population"].to_numpy(float)
    total = w.sum() or 1.0
    edges = np.array(DISTANCE_BANDS_KM, dtype=float)
    before = np.histogram(distances_km["before_km"].to_numpy(float), bins=edges, weights=w)[0] / total * 100.0
    after = np.histogram(distances_km["after_km"].to_numpy(float), bins=edges, weights=w)[0] / total * 100.0
    labels = [f"{int(a)}–{int(b)}" if math.isfinite(b) else f"{int(a)}+" for a, b in zip(edges[:-1], edges[1:])]
    fig = _figure(width_in, height_in)
    ax = fig.add_axes((0.13, 0.2, 0.85, 0.76))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, before, width=0.4, color=_BEFORE, label=tx("chart.before"))
    ax.bar(x + 0.2, after, width=0.4, color=_AFTER, label=tx("chart.after"))
    ax.set_xticks(x, labels, fontsize=6.5)
    ax.set_xlabel(tx("chart.distance.x"))
    ax.set_ylim(0, max(float(before.max()), float(after.max()), 1.0) * 1.12)
    _round_ticks(ax)
    ax.yaxis.set_major_formatter(_axis_format(tx, _decimals_for(ax), "\u00a0%"))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", frameon=False)
    return _svg(fig, "distance")


def overview_map_svg(tables, tx: Texts, *, width_in: float = 3.6, height_in: float = 5.6, insets: list | None = None) -> tuple[str, list]:
    """The plan on a static map (EPSG:3006): FA-regions by change in mean distance,
    hatched where the plan leaves one without an office, dotted where it had none;
    offices by decision (circle, diamond, cross); up to two insets of the FA-regions
    with most changes, their changed offices numbered.

    Returns the SVG and the key of the numbers: ``[(FA-region name, [(number,
    office name, decision), …]), …]`` (for the page to list as text)."""
    import geopandas as gpd
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    from .maps import style
    from .maps.geometry import SIMPLIFY_TOLERANCE_M, simplify_for_display

    fa = tables.fa_geometry.merge(tables.fa_regions, on="fa_code").sort_values("fa_code", kind="mergesort").reset_index(drop=True)
    geoms = gpd.GeoSeries(simplify_for_display(fa.geometry, SIMPLIFY_TOLERANCE_M["print"], crs="EPSG:3006"), crs="EPSG:3006")
    delta = fa["mean_distance_km_after"] - fa["mean_distance_km_before"]
    colours = [style.distance_change_colour(d) for d in delta]
    offices = tables.offices[tables.offices["decision"] != "not opened"].copy()
    pts = gpd.GeoSeries(gpd.points_from_xy(offices["lon"], offices["lat"]), crs="EPSG:4326").to_crs("EPSG:3006")
    offices["x"], offices["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    offices = offices.sort_values("office_id", kind="mergesort")
    changed = offices[offices["decision"].isin(["close", "flexible"])]
    if insets is None:
        counts = changed.groupby("fa_code").size()
        counts = counts[counts >= 2].sort_index()
        insets = list(counts.sort_values(ascending=False, kind="mergesort").index[:2])

    fig = _figure(width_in, height_in)
    main_w = 0.62 if insets else 0.98
    ax = fig.add_axes((0.01, 0.1, main_w, 0.88))
    inset_axes = [fig.add_axes((0.64, 0.55 - 0.45 * k, 0.35, 0.43)) for k in range(len(insets))]

    coverage = [style.fa_coverage(b, a) for b, a in zip(fa["offices_before"], fa["offices_after"])]
    present = np.array([g is not None for g in geoms])
    lost = present & np.array([c == "lost" for c in coverage])
    never = present & np.array([c == "never" for c in coverage])

    def draw(axis, lw_fa: float, marker_scale: float):
        geoms[present].plot(ax=axis, color=[c for c, p in zip(colours, present) if p], edgecolor="#555555", linewidth=lw_fa)
        if lost.any():
            geoms[lost].plot(ax=axis, facecolor="none", edgecolor=style.UNSERVED_COLOUR, hatch="////", linewidth=lw_fa * 2)
        if never.any():
            geoms[never].plot(ax=axis, facecolor="none", edgecolor=style.NEVER_SERVED_COLOUR, hatch="..", linewidth=lw_fa)
        for decision, marker in (("keep", "o"), ("flexible", "D"), ("close", "X")):
            sub = offices[offices["decision"] == decision]
            if len(sub):
                size = (10.0 if decision == "keep" else 22.0) * marker_scale
                axis.scatter(sub["x"], sub["y"], s=size, marker=marker, c=style.DECISION_COLOURS[decision], edgecolors="#1a1a1a", linewidths=0.4, zorder=3)
        flagged = offices[offices["receiving_flag"]]
        if len(flagged):
            axis.scatter(flagged["x"], flagged["y"], s=48.0 * marker_scale, marker="o", facecolors="none", edgecolors=style.RECEIVING_COLOUR, linewidths=1.2, zorder=4)
        axis.set_axis_off()
        axis.set_aspect("equal")

    draw(ax, 0.25, 1.0)
    keys: list = []
    for code, axis in zip(insets, inset_axes):
        draw(axis, 0.5, 2.2)
        sub = changed[changed["fa_code"] == code]
        pad = 8000.0
        x0, x1, y0, y1 = sub["x"].min() - pad, sub["x"].max() + pad, sub["y"].min() - pad, sub["y"].max() + pad
        side = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        axis.set_xlim(cx - side / 2, cx + side / 2)
        axis.set_ylim(cy - side / 2, cy + side / 2)
        axis.set_axis_on()
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_xlabel("")
        axis.set_ylabel("")
        for spine in axis.spines.values():
            spine.set_visible(True)
            spine.set_edgecolor("#777777")
        name = str(fa.loc[fa["fa_code"] == code, "fa_name"].iloc[0])
        axis.set_title(name, fontsize=7.5, pad=2, parse_math=False)
        keys.append((name, _numbers(axis, sub, 1 + sum(len(k) for _n, k in keys))))
        ax.add_patch(Rectangle((cx - side / 2, cy - side / 2), side, side, fill=False, edgecolor="#333333", linewidth=0.6, zorder=5))
    handles = [
        Line2D([], [], linestyle="none", marker=m, markersize=5, markerfacecolor=style.DECISION_COLOURS[d], markeredgecolor="#1a1a1a", markeredgewidth=0.4, label=tx(f"decision.{d}"))
        for d, m in (("keep", "o"), ("flexible", "D"), ("close", "X"))
    ]
    handles.append(Patch(facecolor="none", edgecolor=style.UNSERVED_COLOUR, hatch="////", label=tx("legend.fa_lost")))
    fig.legend(handles=handles, loc="lower left", ncol=2, frameon=False, fontsize=6.5, bbox_to_anchor=(0.0, 0.0))
    return _svg(fig, "overview"), keys


def _numbers(axis, offices: pd.DataFrame, start: int) -> list:
    """Number the changed offices of an inset (1, 2 …, larger offices first), each number
    put where it overlaps no other number; returns the key: (number, office name, decision)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(axis.figure).get_renderer()
    placed: list = []
    key = []
    order = offices.sort_values(["visits_before", "office_id"], ascending=[False, True], kind="mergesort")
    offsets = ((4, 3, "left", "bottom"), (-4, 3, "right", "bottom"), (4, -3, "left", "top"), (-4, -3, "right", "top"),
               (0, 6, "center", "bottom"), (0, -6, "center", "top"), (8, 0, "left", "center"), (-8, 0, "right", "center"))
    for k, (_, r) in enumerate(order.iterrows(), start=start):
        for n, (dx, dy, ha, va) in enumerate(offsets):
            text = axis.annotate(str(k), (r["x"], r["y"]), xytext=(dx, dy), textcoords="offset points", fontsize=6, fontweight="bold", ha=ha, va=va, zorder=6,
                                 bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
            box = text.get_window_extent(renderer).padded(2.5)  # the white box around the number
            if n == len(offsets) - 1 or not any(box.overlaps(b) for b in placed):
                placed.append(box)
                break
            text.remove()
        key.append((k, str(r["office_name"]), str(r["decision"])))
    return key


def frontier_svg(frame: pd.DataFrame, tx: Texts, **options) -> str:
    """:func:`frontier_figure` as an <svg> element (text)."""
    return _svg(frontier_figure(frame, tx, **options), "frontier")


def frontier_figure(frame: pd.DataFrame, tx: Texts, *, stages: list | None = None, links: list | None = None, highlight_cut: float | None = None,
                    measures=FRONTIER_MEASURES, width_in: float = 7.2, height_in: float = 5.4):
    """The frontier of saving against access: one panel per access measure against the cut (MSEK per year).

    Each point is labelled with the saving and the offices closed, links to
    its plan (``links``, one per row of ``frame``, e.g. ``cut-150/report.html``),
    the budget stages (``stages``: (year, cut) pairs) are dashed lines, and
    ``highlight_cut`` rings one point. Value axes start at zero with round
    ticks. Infeasible cuts and cuts without a plan are listed below the chart, not drawn.
    """
    ok = frame[~frame["status"].isin(("INFEASIBLE", "NO_PLAN"))].sort_values("cut_msek", kind="mergesort")
    links = list(links) if links is not None else None
    link_of = {} if links is None else {float(c): u for c, u in zip(frame["cut_msek"], links)}
    n = len(measures)
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig = _figure(width_in, height_in)
    single = n == 1  # a small chart in a report: its caption names the measure
    gs = fig.add_gridspec(rows, cols, left=0.12 if single else 0.08, right=0.97, top=0.96 if single else 0.94, bottom=0.16 if single else 0.09, hspace=0.5, wspace=0.22)
    x = ok["cut_msek"].to_numpy(float)
    xmax = max(float(frame["cut_msek"].max()), 1.0)
    for k, (col, key, scale, decimals) in enumerate(measures):
        ax = fig.add_subplot(gs[k // cols, k % cols])
        y = ok[col].to_numpy(float) * scale
        ax.plot(x, y, color=_AFTER, linewidth=1.2, zorder=2)
        points = ax.scatter(x, y, s=16, color=_AFTER, zorder=3)
        if link_of:
            points.set_urls([link_of.get(float(c)) for c in x])
        top = float(np.nanmax(y)) if len(y) else 1.0
        ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
        ax.set_xlim(min(0.0, float(frame["cut_msek"].min())), xmax * 1.04)
        _round_ticks(ax)
        _round_ticks(ax, "x", nbins=6)
        ax.yaxis.set_major_formatter(_axis_format(tx, _decimals_for(ax), "\u00a0%" if scale == 100.0 else ""))
        ax.xaxis.set_major_formatter(_axis_format(tx, _decimals_for(ax, "x")))
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        if not single:
            ax.set_title(tx(key), loc="left")
        ax.set_xlabel(tx("chart.frontier.x", msek=tx("unit.msek")))
        for year, cut in stages or ():
            ax.axvline(cut, color="#555555", linestyle=(0, (4, 3)), linewidth=0.8, zorder=1)
            ax.annotate(str(year), (cut, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2), textcoords="offset points", fontsize=6.5, va="top", color="#333333")
        if highlight_cut is not None:
            hit = ok[np.isclose(ok["cut_msek"].to_numpy(float), highlight_cut)]
            if len(hit):
                ax.scatter(hit["cut_msek"], hit[col].to_numpy(float) * scale, s=90, facecolors="none", edgecolors="#D55E00", linewidths=1.5, zorder=4)
        if k == 0:
            for _, r in ok.iterrows():
                # the saving is set against the cut with the allowance for flexible offices used: "140 + 10 / 16"
                from .sweep import allowance_and_met

                allowance, _met = allowance_and_met(r)
                label = (tx("chart.frontier.point_allowance", saving=tx.num(r["savings_msek"], 0), allowance=tx.num(allowance, 0 if allowance >= 1 else 1), closed=str(int(r["offices_closed"])))
                         if allowance > 0 else tx("chart.frontier.point", saving=tx.num(r["savings_msek"], 0), closed=str(int(r["offices_closed"]))))
                # below the point: a zero-based axis leaves room under the curve
                t = ax.annotate(label, (r["cut_msek"], r[col] * scale), xytext=(0, -5), textcoords="offset points", rotation=90, fontsize=5.8, ha="center", va="top", color="#333333")
                url = link_of.get(float(r["cut_msek"]))
                if url:
                    t.set_url(url)
    return fig
