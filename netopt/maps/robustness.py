"""The robustness layer of a plan's map: how often each office closes across samples.

A layer function (:func:`robustness_layer`, returning a folium
``FeatureGroup``) and a :class:`~netopt.maps.page.PageExtension`
(:func:`robustness_extension`) that puts it on the base plan's map with a
section in the summary panel and one in the legend. Each office gets a disc
behind its marker (pane ``netoptLines``, below the offices), coloured by the
share of the samples whose best plan closes it (:func:`closure_share_colour`,
a sequential scale ColorBrewer YlOrRd, readable without colour vision by its
lightness); a base decision that holds in fewer than the fragility threshold
of the samples has a dashed black ring (paths ``netopt-robust`` and
``netopt-robust-fragile``). Pure style rules here; the page's script is
``static/netopt-robustness.js``.
"""

from __future__ import annotations

import math

import folium
import pandas as pd

from ..i18n import Texts, texts as texts_of
from ..templating import render
from . import layers, page, style

__all__ = ["robustness_layer", "robustness_extension", "closure_share_colour", "closure_share_bin", "halo_style",
           "CLOSURE_SHARE_BINS", "FRAGILE_RING_COLOUR", "HALO_PX"]

#: Share of samples whose best plan closes an office: (upper bound inclusive,
#: colour, text key ``robust.map.bin.*``). 0 exactly is "never".
CLOSURE_SHARE_BINS: tuple[tuple[float, str, str], ...] = (
    (0.0, "#ffffcc", "never"),
    (0.2, "#fed976", "low"),
    (0.5, "#fd8d3c", "some"),
    (0.8, "#e31a1c", "often"),
    (1.0, "#800026", "mostly"),
)
#: The ring of a fragile decision.
FRAGILE_RING_COLOUR = "#000000"
FRAGILE_RING_DASH = "4 3"
#: How far (px) the disc reaches beyond the office's marker.
HALO_PX = 5.0


def closure_share_bin(share) -> int:
    """Index into :data:`CLOSURE_SHARE_BINS` of a share (0–1); NaN → -1 (no sample has a plan)."""
    try:
        s = float(share)
    except (TypeError, ValueError):
        return -1
    if not math.isfinite(s):
        return -1
    for k, (upper, _colour, _key) in enumerate(CLOSURE_SHARE_BINS):
        if s <= upper + 1e-12:
            return k
    return len(CLOSURE_SHARE_BINS) - 1


def closure_share_colour(share) -> str:
    """Fill colour of an office's disc for the share of samples that close it."""
    k = closure_share_bin(share)
    return style.NO_DATA_COLOUR if k < 0 else CLOSURE_SHARE_BINS[k][1]


def halo_style(share, fragile: bool, marker_radius_px: float) -> dict:
    """Leaflet path options of an office's disc (radius in px)."""
    return {
        "pane": "netoptLines", "shape": "circle", "radius": round(float(marker_radius_px) + HALO_PX, 2),
        "fillColor": closure_share_colour(share), "fillOpacity": 0.9,
        "color": FRAGILE_RING_COLOUR if fragile else "#666666", "weight": 3.0 if fragile else 0.8, "opacity": 1,
        "dashArray": FRAGILE_RING_DASH if fragile else None,
        "className": "netopt-robust" + (" netopt-robust-fragile" if fragile else ""),
    }


def _popup(row, tx: Texts):
    o = {
        "name": row["office_name"],
        "base": tx(f"decision.{row['base_decision']}"),
        "holds": tx.pct(row["holds"], 0),
        "interval": f"{tx.pct(row['holds_low'], 0)} \u2013 {tx.pct(row['holds_high'], 0)}",
        "samples": tx("robust.map.popup_samples", n=str(int(row["samples"]))),
        "shares": tx("robust.map.popup_shares_value", keep=tx.pct(row["share_keep"], 0), flexible=tx.pct(row["share_flexible"], 0), close=tx.pct(row["share_close"], 0)),
        "fragile": bool(row["fragile"]),
    }
    return render("netopt.maps", "templates", "robustness_popup.html", tx=tx, o=o)


def robustness_layer(offices: pd.DataFrame, *, name: str, max_visits: float, texts: Texts | None = None, show: bool = True) -> folium.FeatureGroup:
    """Discs behind the offices, coloured by how often the samples' best plans close them.

    ``offices``: rows of ``robustness.csv`` (:func:`netopt.robustness.office_robustness`)
    with the plan's ``decision``, ``visits_before`` and ``visits_after`` (for
    the size of the office's marker, which the disc surrounds). Sorted by
    office_id, larger discs first so that small ones stay clickable.
    """
    tx = texts or texts_of("en")
    points = []
    for _, row in offices.sort_values("office_id", key=lambda s: s.astype(str), kind="mergesort").iterrows():
        lat, lon = layers._float_or_none(row["lat"], 5), layers._float_or_none(row["lon"], 5)
        if lat is None or lon is None:
            continue
        radius = style.visits_radius(layers.office_size_visits(row), max_visits)
        points.append({
            "lat": lat, "lon": lon,
            "popup": str(_popup(row, tx)),
            "tooltip": str(layers.panels.escape(row["office_name"])),
            "style": halo_style(row["share_close"], bool(row["fragile"]), radius),
        })
    points.sort(key=lambda p: -p["style"]["radius"])
    group = layers.feature_group(name, show=show)
    group.add_child(layers.Call("netoptAddPoints", layers.js(points)))
    return group


def robustness_extension(tables, offices: pd.DataFrame, summary: dict, texts: Texts | None = None) -> page.PageExtension:
    """The robustness layer and its panel sections for the base plan's map
    (:func:`netopt.maps.map_html` of ``tables``, the base plan's tables).

    ``offices``: ``robustness.csv`` as a frame; ``summary``: ``robustness.json``
    as a dict (:func:`netopt.robustness.headline`).
    """
    from . import map_inputs

    tx = texts or texts_of("en")
    drawn = map_inputs(tables)[0]
    frame = drawn[["office_id", "decision", "visits_before", "visits_after"]].merge(offices, on="office_id", how="inner")
    top = layers.max_visits(drawn)
    layer = robustness_layer(frame, name=tx("robust.map.layer"), max_visits=top, texts=tx)
    threshold = tx.pct(summary["fragile_below"], 0)
    lo, hi = summary["base_misses_cut_interval_95"]
    misses = tx("robust.map.misses", missed=str(summary["base_misses_cut"]), n=str(summary["samples"]), p=tx.pct(summary["base_misses_cut_share"], 0),
                low=tx.pct(lo, 0), high=tx.pct(hi, 0))
    fragile = tx("robust.map.fragile", k=str(summary["decisions_fragile"]), threshold=threshold)
    over = (summary.get("base_flexible_over_capacity") or {}).get("samples")
    capacity = tx("robust.map.capacity", k=str(over), n=str(summary["samples"])) if over else ""
    bins = [(colour, tx(f"robust.map.bin.{key}")) for _upper, colour, key in CLOSURE_SHARE_BINS]
    panel = render("netopt.maps", "templates", "robustness_panel.html", tx=tx, misses=misses, fragile=fragile, capacity=capacity, bins=bins,
                   ring=tx("robust.map.ring", threshold=threshold))
    data = {"samples": summary["samples"], "seed": summary["seed"], "base_misses_cut": summary["base_misses_cut"],
            "fragile_offices": summary["fragile_offices"]}
    return page.PageExtension(name="robustness", css=page._static_text("netopt-robustness.css"), js=page._static_text("netopt-robustness.js"),
                              data=data, panels=(panel,), init="netoptRobustnessInit", layers=(layer,))
