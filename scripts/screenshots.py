"""Make the README's four screenshots of the shipped 2027 plan, offline, in headless Chromium.

Solves ``scenarios/cut-2027.toml`` once, writes its outputs in English and in
Swedish into a temporary folder, opens ``map.html`` and ``report.html`` in
Debian's Chromium through Playwright (no browser download; every request that
is not ``file:``, ``data:``, ``blob:`` or ``about:`` is blocked and fails the
run) and writes, at device scale factor 1:

* ``map-cut-2027.png``         the map, 1400 × 900, as it opens;
* ``report-cut-2027.png``      report.html, the top 900 × 1270 pixels;
* ``map-cut-2027-sv.png``      the Swedish map on a 1024 × 768 projector;
* ``map-cut-2027-whatif.png``  the map, 1400 × 900, after keeping Stockholm
  Kista, closing Motala and making Kiruna flexible (through ``window.netopt``),
  with Kiruna's popup open and the panel scrolled to the what-if figures.

    python scripts/screenshots.py [--out docs/img] [--overwrite]

Its purpose is remaking the shipped images, so it replaces the four PNGs in
docs/img (the default --out) without being asked; in any other folder an
existing PNG of the same name is replaced only with --overwrite (checked
before solving). Each PNG is written whole or not at all.

Needs the Python package ``playwright`` and a Chromium binary
(``/usr/bin/chromium``, or the environment variable ``NETOPT_CHROMIUM``);
exits with status 2 and says which is missing otherwise, before solving.
Exits with status 1, and replaces none of the images, when a page asks the
network for anything or reports an error. Each PNG is Chromium's own or,
when smaller, Pillow's ``optimize=True`` re-encoding (Pillow comes with
matplotlib; Chromium's was the smaller for all four images). Two runs on one
machine give byte-identical files; another machine's fonts may differ.
About 20 s.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

import netopt
from netopt import io as nio
from netopt.errors import NetoptError

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "img"  # the shipped images: remade in place without --overwrite
NAMES = ("map-cut-2027.png", "report-cut-2027.png", "map-cut-2027-sv.png", "map-cut-2027-whatif.png")
SCENARIO = ROOT / "scenarios" / "cut-2027.toml"
OFFICES_ON_MAP = 121  # office markers the shipped 2027 map draws

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--hide-scrollbars",
    "--font-render-hinting=none",
]

# The three what-if changes, Kiruna last: the panel shows the FA-region of the
# office changed last.
WHATIF = {"stockholm-kista": "keep", "motala": "close", "kiruna": "flexible"}
POPUP_OFFICE = "kiruna"


class ScreenshotError(RuntimeError):
    """A screenshot could not be made as the README shows it."""


def chromium_path() -> str | None:
    """The Chromium binary to launch (``NETOPT_CHROMIUM``, else Debian's), or None."""
    env = os.environ.get("NETOPT_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def browser_missing() -> str | None:
    """Why no screenshot can be made here, or None when Playwright and Chromium are there."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (python3 -m pip install playwright)"
    if chromium_path() is None:
        where = os.environ.get("NETOPT_CHROMIUM")
        if where:
            return f"NETOPT_CHROMIUM={where} does not exist"
        return "no Chromium at /usr/bin/chromium (apt-get install chromium, or set NETOPT_CHROMIUM to a Chromium binary)"
    return None


def write_outputs(work: Path) -> dict[str, Path]:
    """Solve the shipped 2027 scenario once and write its outputs in English and Swedish under ``work``."""
    network = netopt.load_network()
    scenario = netopt.load_scenario(SCENARIO)
    plan = netopt.solve(network, scenario)
    s = plan.summary()
    print(f"solved {SCENARIO.name}: {plan.status}, gap {plan.gap}; saving {s['savings_msek']:.1f} + "
          f"{s['flexible_allowance_used_msek']:.1f} MSEK, {s['offices_kept']} kept / {s['offices_flexible']} flexible / "
          f"{s['offices_closed']} closed, {s['population_mean_distance_km_before']:.2f} → {s['population_mean_distance_km']:.2f} km")
    folders = {}
    for lang in ("en", "sv"):
        folders[lang] = netopt.write_outputs(plan, work / lang, lang=lang)
    return folders


class Shooter:
    """One headless Chromium, offline; :meth:`shoot` opens one page per screenshot."""

    def __init__(self, browser):
        self._browser = browser

    def shoot(self, html: Path, png: Path, *, viewport: tuple[int, int], locale: str = "en-GB", prepare=None) -> None:
        """Open ``html`` at ``viewport``, wait until it has settled, run ``prepare(page)``, settle again, save ``png``."""
        blocked: list[str] = []
        errors: list[str] = []

        def route(r):
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                r.continue_()
            else:
                blocked.append(url)
                r.abort()

        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            device_scale_factor=1,
            service_workers="block",
            locale=locale,
            timezone_id="Europe/Stockholm",
            reduced_motion="reduce",
        )
        try:
            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("console", lambda m: errors.append(f"console error: {m.text}") if m.type == "error" else None)
            page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
            page.goto(html.resolve().as_uri(), wait_until="load")
            if html.name == "map.html":
                page.wait_for_function(
                    "n => document.querySelectorAll('path.netopt-office').length >= n && window.netopt && window.netopt.map",
                    arg=OFFICES_ON_MAP)
            _settle(page)
            if prepare is not None:
                prepare(page)
                _settle(page)
            shot = page.screenshot(animations="disabled", caret="hide")
        finally:
            context.close()
        if blocked:
            raise ScreenshotError(f"{html} asked the network for {blocked}; the page must work offline")
        if errors:
            raise ScreenshotError(f"{html}: " + "; ".join(errors))
        _save_png(shot, png)


def _settle(page) -> None:
    """Wait for fonts, images, Leaflet's animations and the label layout (placed after a timeout), then two frames."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.wait_for_function(
        "() => !(window.netopt && window.netopt.map) || "
        "!(window.netopt.map._animatingZoom || (window.netopt.map._panAnim && window.netopt.map._panAnim._inProgress))")
    page.wait_for_timeout(400)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")


def _whatif(page) -> None:
    """Keep Stockholm Kista, close Motala, make Kiruna flexible; open Kiruna's popup; show the what-if figures."""
    page.wait_for_function("() => window.netopt.available === true")
    page.evaluate("changes => netopt.setDecisions(changes)", WHATIF)
    got = page.evaluate("() => netopt.changes().map(c => [c.office_id, c.decision])")
    if dict(got) != WHATIF:
        raise ScreenshotError(f"the what-if shows the changes {got}, expected {WHATIF}")
    page.select_option("#netopt-search", value=POPUP_OFFICE)  # centres the office (zoom 9) and opens its popup
    page.wait_for_selector(".leaflet-popup-content .netopt-whatif-popup")
    # the panel scrolls on its own: bring the end of the what-if (its buttons under the list of changes) to its bottom
    page.evaluate("""() => {
      const panel = document.getElementById('netopt-summary');
      const p = panel.getBoundingClientRect(), r = document.getElementById('netopt-whatif-reset').getBoundingClientRect();
      panel.scrollTop += r.bottom - p.bottom + 25;
    }""")


def _save_png(data: bytes, png: Path) -> None:
    """Write the screenshot as Chromium encoded it, or re-encoded by Pillow (``optimize=True``) when that is smaller."""
    png.parent.mkdir(parents=True, exist_ok=True)
    try:
        from PIL import Image
    except ImportError:
        png.write_bytes(data)
        return
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.save(buffer, format="PNG", optimize=True)
    smaller = buffer.getvalue()
    png.write_bytes(smaller if len(smaller) < len(data) else data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(IMAGES),
                    help="folder for the PNGs (default: docs/img, whose shipped images this script exists to remake and replaces without --overwrite)")
    ap.add_argument("--overwrite", action="store_true", help="replace existing PNGs in a folder other than docs/img")
    args = ap.parse_args(argv)
    out = Path(args.out)
    overwrite = args.overwrite or out.resolve() == IMAGES.resolve()
    try:
        for name in NAMES:
            nio.check_output_file(out / name, overwrite=overwrite)
    except NetoptError as err:
        print(f"screenshots.py: {err}", file=sys.stderr)
        return err.exit_code
    missing = browser_missing()
    if missing:
        print(f"screenshots.py: cannot make screenshots: {missing}", file=sys.stderr)
        return 2
    from playwright.sync_api import Error as PlaywrightError, sync_playwright

    with tempfile.TemporaryDirectory(prefix="netopt-screenshots-") as tmp:
        folders = write_outputs(Path(tmp))
        en, sv = folders["en"], folders["sv"]
        shots = [
            (en / "map.html", "map-cut-2027.png", (1400, 900), "en-GB", None),
            (en / "report.html", "report-cut-2027.png", (900, 1270), "en-GB", None),
            (sv / "map.html", "map-cut-2027-sv.png", (1024, 768), "sv-SE", None),
            (en / "map.html", "map-cut-2027-whatif.png", (1400, 900), "en-GB", _whatif),
        ]
        with sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
            except PlaywrightError as err:
                print(f"screenshots.py: cannot start Chromium at {chromium_path()}: {str(err).splitlines()[0]}", file=sys.stderr)
                return 2
            try:
                shooter = Shooter(browser)
                for html, name, viewport, locale, prepare in shots:
                    try:
                        shooter.shoot(html, Path(tmp) / "png" / name, viewport=viewport, locale=locale, prepare=prepare)
                    except ScreenshotError as err:
                        print(f"screenshots.py: {name}: {err}; no image written", file=sys.stderr)
                        return 1
            finally:
                browser.close()
        # all four or none: a failed run leaves the old images in place
        assert tuple(name for _, name, _, _, _ in shots) == NAMES
        for _, name, viewport, _, _ in shots:
            with nio.atomic_output_file(out / name, overwrite=overwrite) as part:
                shutil.copyfile(Path(tmp) / "png" / name, part)
            print(f"wrote {out / name} ({viewport[0]}×{viewport[1]}, {(out / name).stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
