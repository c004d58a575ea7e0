"""A normal install runs the main job (issue 11, fault 10).

``pip wheel .`` then installing the wheel used to give a netopt whose
``validate`` failed: data/ and scenarios/ were not in the package. This test
builds the wheel from a copy of the source, installs it into a fresh virtual
environment (its dependencies are taken from the running interpreter's
site-packages, so nothing is downloaded) and runs the main job from another
folder. About 30 s.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig

import netopt
from conftest import ROOT


def _copy_source(dst):
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    for name in ("netopt", "data", "scenarios"):
        shutil.copytree(ROOT / name, dst / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dst / name)


def test_installed_wheel_runs_validate_and_a_solve_from_another_folder(tmp_path):
    src = tmp_path / "src"
    _copy_source(src)
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("netopt-*.whl")

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)  # its own pip sees only the venv
    py = venv / "bin" / "python"
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    install = subprocess.run(
        [py, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    # then (so that pip does not see the netopt of this checkout as installed) the dependencies (numpy, ortools, geopandas, ...) of the running interpreter, as --system-site-packages
    # would give them; the netopt of this checkout is not among them (editable installs load through .pth hooks)
    # (a venv's own and, with --system-site-packages, the system's: every site folder on sys.path)
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    outer |= {p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages"))}
    with open(os.path.join(purelib, "outer-site-packages.pth"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(sorted(outer)) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([py, "-c", "import netopt; print(netopt.__file__)"], cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where  # the installed wheel, not this checkout
    netopt_exe = venv / "bin" / "netopt"

    res = subprocess.run([netopt_exe, "validate", "--json"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    counts = json.loads(res.stdout)
    shipped = netopt.load_network().summary()  # this checkout's data, read in place
    assert counts["offices"] == shipped["offices"] and counts["fa_regions"] == 60 and counts["population"] == 10_605_520

    res = subprocess.run([netopt_exe, "solve", "cut-2027", "--out", "plan", "--no-map"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    s = json.loads((elsewhere / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "OPTIMAL" and s["cut_msek"] == 150.0 and s["fa_regions_served"] == 60
    assert sorted(p.name for p in (elsewhere / "plan").iterdir()) == ["municipalities.csv", "plan.csv", "plan.gpkg", "plan.xlsx", "report.html", "report.md", "summary.json"]

    res = subprocess.run([netopt_exe, "evaluate", "--close", "visby", "--out", "hand", "--no-map"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr  # the default scenario comes from the package too
