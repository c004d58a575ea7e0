"""Property tests of the input readers with malformed files (issue 8).

Office registers, population tables, scenario and parameter TOML files are
generated with wrong types, missing and extra columns, duplicates,
NaN/inf/huge numbers, extreme coordinates, empty files, BOMs, Latin-1 bytes
and very long strings. Every case must end in a valid result or in a
:class:`netopt.errors.NetoptError` with a non-empty message: never another
exception type.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netopt
from netopt.errors import DataError, NetoptError
from netopt.params import load_parameters
from netopt.scenario import Scenario, load_scenario

from conftest import OFFICES_CSV, read_csv_rows

ROOT = Path(__file__).resolve().parent.parent
POPULATION_CSV = ROOT / "data" / "regions" / "population.csv"

FUZZ = settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run (CI), no example database in the tree
    database=None,
)

# --------------------------------------------------------------------------- cell values

HOSTILE = [
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "1e400", "-1e400", "1e-400", "9" * 400,
    "-0", "0x1F", "1_000", "12,5", "1.2.3", "−59.3", "59,40316", "٥٩.٣", "None", "null", "TRUE",
    "<script>alert(1)</script>", "| a | b |", '"', "'", "\\", "=1+1", "@SUM(A1)", "\t", "x" * 5000,
    "Örebro", "Göteborg\u00a0city", "\u200b", "😀", "\ufeffabc", "a;b", "a,b",
    "90", "-90", "180", "-180", "69.3", "54.9", "24.4", "10.8", "68.44", "17.43", "59.91", "10.75",
    "6580822", "674032",  # SWEREF 99 metres
    "0180", "180", "9999", "0000", "Stockholm", "stockholm", "01", "018O",
]
cell = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)

OFFICE_COLUMNS = ["office_id", "office_name", "municipality_code", "lat", "lon", "visits", "cost_msek"]
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]


def _csv_line(cells: list[str], sep: str) -> str:
    out = []
    for c in cells:
        if any(ch in c for ch in (sep, '"', "\n", "\r")):
            c = '"' + c.replace('"', '""') + '"'
        out.append(c)
    return sep.join(out)


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@st.composite
def office_registers(draw) -> bytes:
    """Bytes of a (usually) malformed office register."""
    kind = draw(st.sampled_from(["table", "table", "table", "table", "bytes", "empty"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\n", b"\xef\xbb\xbf", b"   \n\n", b",,,,\n", b"\x00\x00"]))
    header, rows = _shipped_offices()
    # columns: the shipped ones, some dropped, some extra, maybe one repeated
    cols = [c for c in OFFICE_COLUMNS if draw(st.integers(0, 9)) > 0]
    cols += draw(st.lists(st.sampled_from(["note", "", "lat", "office_id", "Unnamed: 3", "x" * 300, "visits"]), max_size=2))
    cols = draw(st.permutations(cols)) if cols else cols
    body = []
    n = draw(st.integers(0, 4))
    for _ in range(n):
        base = dict(zip(header, draw(st.sampled_from(rows))))
        line = []
        for c in cols:
            if draw(st.integers(0, 4)) == 0:
                line.append(draw(cell))
            else:
                line.append(base.get(c, ""))
        # sometimes too few or too many fields
        shape = draw(st.integers(0, 9))
        if shape == 0 and line:
            line = line[: draw(st.integers(0, len(line) - 1))]
        elif shape == 1:
            line = line + [draw(cell)]
        body.append(line)
    if n >= 1 and draw(st.booleans()):
        body.append(list(body[0]))  # a duplicate line
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = eol.join(_csv_line(r, sep) for r in [cols] + body) + draw(st.sampled_from(["", eol]))
    return _encode(text, draw(st.sampled_from(ENCODINGS)))


_OFFICES_CACHE: list = []


def _shipped_offices():
    if not _OFFICES_CACHE:
        header, rows = read_csv_rows(OFFICES_CSV)
        _OFFICES_CACHE.append((header, rows[:12]))
    return _OFFICES_CACHE[0]


def _check_outcome(call):
    """Run ``call``; a result or a NetoptError with a message is fine, anything else fails."""
    try:
        return call()
    except NetoptError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        if isinstance(exc, DataError):
            assert exc.problems, "DataError without problems"
            for p in exc.problems:
                assert p.file and p.message and p.fix
        return exc


# --------------------------------------------------------------------------- office registers


@FUZZ
@given(data=office_registers())
def test_fuzzed_office_register(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("off") / "offices.csv"
    path.write_bytes(data)
    res = _check_outcome(lambda: netopt.load_network(offices=path))
    if isinstance(res, netopt.Network):
        off = res.offices
        assert off["office_id"].is_unique
        assert off["lat"].between(55.0, 69.2).all() and off["lon"].between(10.9, 24.3).all()
        assert off["x_m"].map(math.isfinite).all()
        for col in ("visits_given", "cost_msek_given"):
            v = off[col].dropna()
            assert ((v >= 0) & v.map(math.isfinite)).all()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xef\xbb\xbf",
        b"office_id,office_name,municipality_code,lat,lon\n",
        b"office_id,office_name,municipality_code,lat,lon\nabc,Name,0180\n",
        b"office_id,office_name,municipality_code,lat,lon\nabc,Name,0180,59.40316,17.94479,extra\n",
        b"office_id,office_id,office_name,municipality_code,lat,lon\na,b,Name,0180,59.40316,17.94479\n",
        b"office_id,office_name,municipality_code,lat,lon\nabc,G\x81teborg,1480,57.7,11.97\n",
        "office_id,office_name,municipality_code,lat,lon\nabc,Name,0180,59.40316,17.94479\n".encode("utf-16"),
        b'office_id,office_name,municipality_code,lat,lon\n"abc,Name,0180,59.4,17.9\n',
        b"office_id,office_name,municipality_code,lat,lon\nabc,Name,0180,nan,inf\n",
        b"office_id,office_name,municipality_code,lat,lon,visits\nabc,Name,0180,59.40316,17.94479,1e400\n",
        b"office_id,office_name,municipality_code,lat,lon\nabc," + b"N" * 100_000 + b",0180,59.40316,17.94479\n",
    ],
    ids=["empty", "bom-only", "header-only", "short-row", "long-row", "repeated-column", "not-utf8-nor-cp1252", "utf16",
         "open-quote", "nan-inf", "huge-visits", "very-long-name"],
)
def test_malformed_office_register_examples(tmp_path, data):
    path = tmp_path / "offices.csv"
    path.write_bytes(data)
    with pytest.raises(NetoptError) as info:
        netopt.load_network(offices=path)
    assert str(info.value).strip()
    assert "offices.csv" in str(info.value)


def test_register_as_spreadsheet_writes_it_is_accepted(tmp_path):
    """BOM, semicolons, decimal commas and codes without their leading zero are fine."""
    path = tmp_path / "offices.csv"
    path.write_bytes("\ufeffoffice_id;office_name;municipality_code;lat;lon\nkista;Kista;180;59,40316;17,94479\n".encode("utf-8"))
    net = netopt.load_network(offices=path)
    assert list(net.offices["municipality_code"]) == ["0180"]
    assert net.offices["lat"].iloc[0] == pytest.approx(59.40316)


# --------------------------------------------------------------------------- population tables

_POP_CACHE: list = []


def _population():
    if not _POP_CACHE:
        _POP_CACHE.append(read_csv_rows(POPULATION_CSV))
    return _POP_CACHE[0]


@st.composite
def population_tables(draw) -> bytes:
    kind = draw(st.sampled_from(["table"] * 5 + ["bytes", "empty"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\xef\xbb\xbf\n", b"kommun_kod,population\n"]))
    header, rows = _population()
    rows = [list(r) for r in rows]
    header = list(header)
    rename = draw(st.sampled_from([None, None, ("kommun_kod", "municipality_code"), ("kommun_kod", "code"), ("population", "pop"), ("population", "population")]))
    if rename:
        header = [rename[1] if h == rename[0] else h for h in header]
    for _ in range(draw(st.integers(0, 4))):
        k = draw(st.integers(0, len(rows) - 1))
        what = draw(st.sampled_from(["cell", "drop", "dup"]))
        if what == "drop":
            rows.pop(k)
        elif what == "dup":
            rows.insert(k, list(rows[k]))
        else:
            rows[k][draw(st.integers(0, len(header) - 1))] = draw(cell)
    sep = draw(st.sampled_from([",", ";"]))
    text = "\n".join(_csv_line(r, sep) for r in [header] + rows) + "\n"
    return _encode(text, draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1"])))


@settings(FUZZ, max_examples=30)
@given(data=population_tables())
def test_fuzzed_population_table(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("pop") / "population.csv"
    path.write_bytes(data)
    res = _check_outcome(lambda: netopt.load_network(population=path))
    if isinstance(res, netopt.Network):
        assert len(res.municipalities) == 290
        assert (res.municipalities["population"] >= 0).all()
        assert res.population == int(res.municipalities["population"].sum())


# --------------------------------------------------------------------------- scenario TOML


def _toml_key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "_-" for c in k) and k.isascii() else _toml_str(k)


def _toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("?")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def toml_dumps(doc: dict) -> str:
    """A small TOML writer: scalars first, then tables, then arrays of tables."""
    lines = []
    for k, v in doc.items():
        if not isinstance(v, dict) and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v)):
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"[{_toml_key(k)}]")
            lines.extend(f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items())
    for k, v in doc.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                lines.append(f"[[{_toml_key(k)}]]")
                lines.extend(f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in item.items())
    return "\n".join(lines) + "\n"


scalar = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2, 64, 65, 2000, 2027, 2101, 10**6]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.05, 0.5, 1.0, 30.0, 150.0, 1e300, -1e300, 5e-324]),
    st.text(max_size=12),
    st.sampled_from(["distance", "coverage", "visits_lost", "fastest", "fa2015", "", "x" * 3000]),
)
value = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=5), scalar, max_size=2))

TOP_KEYS = ["name", "description", "objective", "coverage_km", "fa_division", "time_limit_s", "threads", "seed", "relative_gap", "tie_break", "colour"]
STAGE_KEYS = ["year", "cut_msek", "flexible_allowance_msek", "cut"]
CONSTRAINT_KEYS = ["lock_open", "lock_closed", "max_growth", "max_distance_km", "keep_municipalities", "max_closures", "require_all_fa_regions", "lock"]
SOLVER_KEYS = ["time_limit_s", "threads", "seed", "relative_gap", "tie_break", "gap"]
PARAMETER_KEYS = ["decay_km", "floor", "detour_factor", "cost_per_fte_msek", "citizen_service_employees", "fte_per_employee",
                  "min_fte_per_office", "site_fixed_msek", "reference_cost_msek", "reference_visits_total", "reference_offices_total",
                  "flexible_site_share", "flexible_days_per_week", "flexible_weeks_per_year", "flexible_travel_cost_per_day_sek",
                  "flexible_visits_per_day", "staff_cost_factor", "scale_fixed_costs_to_reference", "reference_visits_by_region", "speed"]
GOOD = {"name": "s", "objective": "distance", "coverage_km": 30.0, "year": 2027, "cut_msek": 150.0, "flexible_allowance_msek": 10.0,
        "time_limit_s": 60.0, "threads": 1, "seed": 0, "relative_gap": 0.0, "tie_break": True, "lock_open": [], "lock_closed": [],
        "flexible": True, "decay_km": 40.0, "floor": 0.2, "reference_visits_total": 2758758}


def _section(draw, keys):
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=4))
    return {k: (draw(value) if draw(st.integers(0, 2)) == 0 or k not in GOOD else GOOD[k]) for k in chosen}


@st.composite
def scenario_texts(draw) -> bytes:
    kind = draw(st.sampled_from(["doc"] * 6 + ["text", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", errors="replace")
    doc = _section(draw, TOP_KEYS)
    stages = [_section(draw, STAGE_KEYS) for _ in range(draw(st.integers(0, 3)))]
    if stages:
        doc["stage"] = stages
    for name, keys in (("constraints", CONSTRAINT_KEYS), ("solver", SOLVER_KEYS), ("parameters", PARAMETER_KEYS), ("modes", ["flexible", "mobile"])):
        if draw(st.booleans()):
            doc[name] = _section(draw, keys)
    if draw(st.integers(0, 5)) == 0:
        doc[draw(st.sampled_from(["stage", "modes", "solver", "extra"]))] = draw(scalar)
    text = toml_dumps(doc)
    return _encode(text, draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1"])))


@settings(FUZZ, max_examples=60)
@given(data=scenario_texts())
def test_fuzzed_scenario_toml(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("sc") / "scenario.toml"
    path.write_bytes(data)
    res = _check_outcome(lambda: load_scenario(path))
    if isinstance(res, Scenario):
        assert res.stages and all(math.isfinite(s.cut_msek) for s in res.stages)
        assert 1 <= res.solver.threads <= 64
        assert res.objective in ("distance", "coverage", "visits_lost")
        netopt.Parameters().with_overrides(**res.parameters)  # overrides were checked


@pytest.mark.parametrize(
    "body, key, allowed",
    [
        ("[parameters]\nreference_visits_total = 0\n", "'parameters.reference_visits_total' = 0", "a whole number from 1 to 1 000 000 000"),
        ("[parameters]\nreference_visits_total = -5\n", "'parameters.reference_visits_total' = -5", "a whole number from 1 to 1 000 000 000"),
        ("[parameters]\nreference_offices_total = 0\n", "'parameters.reference_offices_total' = 0", "a whole number from 1 to 100 000"),
        ("[parameters]\ncitizen_service_employees = -1\n", "'parameters.citizen_service_employees' = -1", "a whole number from 0 to 1 000 000"),
        ("[parameters]\nreference_visits_total = nan\n", "'parameters.reference_visits_total' = nan", "a whole number from 1 to 1 000 000 000"),
        ("[parameters]\nreference_visits_total = inf\n", "'parameters.reference_visits_total' = inf", "a whole number from 1 to 1 000 000 000"),
        ("[parameters]\nflexible_visits_per_day = nan\n", "'parameters.flexible_visits_per_day' = nan", "a number from 1 to 10 000"),
        ("[parameters]\nscale_fixed_costs_to_reference = 3\n", "'parameters.scale_fixed_costs_to_reference' = 3", "true or false"),
        ("[parameters]\nreference_visits_by_region = 3\n", "'parameters.reference_visits_by_region' = 3", "a table of SSC regions"),
        ("stage = 5\n", "'stage' = 5", "[[stage]] tables"),
        ("stage = []\n", "'stage' = []", "[[stage]] tables"),
        ("[[stage]]\nyear = 2027\n", "'stage[1].cut_msek' is missing", "a number from -1000 to 100 000"),
        ("[[stage]]\nyear = 2027\ncut_msek = 1e999\n", "'stage[1].cut_msek' = inf", "a number from -1000 to 100 000"),
        ("[[stage]]\nyear = 2027\ncut_msek = 10\n[[stage]]\nyear = 2027\ncut_msek = 20\n", "'stage' = [2027, 2027]", "increasing years, each year once"),
        ("[constraints]\nlock_open = [1, 2]\n", "'constraints.lock_open' = [1, 2]", "a list of quoted texts"),
        ("[constraints]\nlock_open = ['a']\nlock_closed = ['a']\n", "'constraints.lock_open' = ['a']", "also in lock_closed"),
        ("constraints = 3\n", "'constraints' = 3", "must be a table"),
        ("name = 'x' \nname = 'y'\n", "not valid TOML", "line 2"),
    ],
)
def test_malformed_scenario_examples(tmp_path, body, key, allowed):
    """Each message names the file, the key with the value given, what is allowed, and a fix."""
    path = tmp_path / "scenario.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(NetoptError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ")
    assert key in msg and allowed in msg, msg
    assert "Fix: " in msg and len(msg.split("Fix: ", 1)[1].strip()) > 5


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_fuzzed_parameters_toml(tmp_path_factory, data):
    """``--parameters`` files: the names of data/model/parameters.toml with hostile values (and now and then an old sectioned spelling)."""
    flat = [k for k in PARAMETER_KEYS if k != "reference_visits_by_region"]
    doc = {k: data.draw(value) if data.draw(st.integers(0, 2)) else GOOD.get(k, data.draw(value))
           for k in data.draw(st.lists(st.sampled_from(flat), unique=True, max_size=4))}
    if data.draw(st.integers(0, 4)) == 0:
        doc["reference_visits_by_region"] = data.draw(st.one_of(scalar, st.dictionaries(st.sampled_from(["Nord", "Mitt", "Väst", "Syd", "Stockholm-Gotland", "Öst", "Mars"]), scalar, max_size=3)))
    if data.draw(st.integers(0, 5)) == 0:
        doc[data.draw(st.sampled_from(["visits", "flexible", "reference"]))] = {data.draw(st.sampled_from(["decay_km", "site_share", "cost_msek"])): data.draw(scalar)}
    path = tmp_path_factory.mktemp("par") / "parameters.toml"
    path.write_text(toml_dumps(doc), encoding="utf-8")
    res = _check_outcome(lambda: load_parameters(path))
    if isinstance(res, netopt.Parameters):
        assert math.isfinite(res.staff_per_visit_sek) and res.staff_per_visit_sek >= 0
        assert math.isfinite(res.site_per_visit_sek) and res.site_per_visit_sek >= 0
        for k, v in doc.items():
            assert getattr(res, k) == v  # every value given is the value used


def test_scenario_parameter_overrides_of_each_type(tmp_path):
    """A true/false parameter takes true/false, a number parameter a number."""
    path = tmp_path / "scenario.toml"
    path.write_text("[parameters]\nscale_fixed_costs_to_reference = false\ndecay_km = 30\n", encoding="utf-8")
    sc = load_scenario(path)
    assert sc.parameters == {"scale_fixed_costs_to_reference": False, "decay_km": 30}


def test_empty_scenario_is_the_2027_stage(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_bytes(b"")
    sc = load_scenario(path)
    assert [(s.year, s.cut_msek, s.flexible_allowance_msek) for s in sc.stages] == [(2027, 150.0, 10.0)]
    assert sc.objective == "distance" and sc.solver.threads == 1


def test_shipped_scenarios_load(repo_root):
    for path in sorted((repo_root / "scenarios").glob("*.toml")):
        sc = load_scenario(path)
        assert sc.name == path.stem
