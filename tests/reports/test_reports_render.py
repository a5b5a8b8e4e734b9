"""Render every report type on a small simulated Denmark and check what a reader gets.

The last test takes a headless Chromium screenshot of each report type (skipped, with
the reason, when no browser is installed) and checks the pixels: the red SIMULEREDE DATA
banner at the top, the title under it and the first chart on the first screen. The
screenshots are kept next to the reports for a person to look at.

One module-scoped fixture simulates the workspace once and renders the national,
activities and learning-review reports and two kommune reports (a partnership kommune
and the kommune with most suppressed survey cells); the tests then read the executed
notebooks, the HTML, the figure/table folders and provenance.json.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from botrygt_eval.errors import ReportError
from botrygt_eval.reports.inputs import prepare_inputs
from botrygt_eval.reports.render import render_kommuner, render_report
from botrygt_eval.simulate import simulate_workspace
from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.learning_review import write_projektleder_responses

#: small samples (about 15 respondents per kommune and year): some cells fall under 10
SMALL = SimulationConfig(
    population_total=400_000, households_total=190_000, survey_min_n=40, survey_fraction=0.001
)
MIN_CELL = 10


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    ws = root / "workspace"
    simulate_workspace(ws, seed=5, config=SMALL)
    write_projektleder_responses(ws / "survey" / "projektleder_2025.csv", 5)
    out = root / "reports"
    paths = prepare_inputs(ws, out / "_inputs", min_cell=MIN_CELL)
    est = pd.read_csv(paths["survey_estimates"])
    small = est[est["kommune_kode"].notna() & est["year"].eq(2025) & est["n"].lt(MIN_CELL)]
    assert len(small), "the fixture must contain cells under the threshold"
    suppressed_kommune = int(small["kommune_kode"].value_counts().index[0])
    partner = int(pd.read_csv(paths["partnerships"])["kommune_kode"].iloc[0])
    results = {}
    for kind, k in [("national", None), ("activities", None), ("learning-review", None),
                    ("kommune", partner), ("kommune", suppressed_kommune)]:  # fmt: skip
        r = render_report(kind, ws, out, kommune=k, seed=3, min_cell=MIN_CELL)
        results[r.folder.name] = r
    return ws, out, results, suppressed_kommune


def test_every_report_type_renders_without_errors(rendered):
    _, _, results, _ = rendered
    assert {"national", "activities", "learning_review"} <= set(results)
    assert sum(name.startswith("kommune_") for name in results) == 2
    for name, r in results.items():
        nb = nbformat.read(r.notebook, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert not cell.metadata.get("papermill", {}).get("exception"), (name, cell.source[:80])
            for output in cell.get("outputs", []):
                assert output["output_type"] != "error", (name, output.get("ename"))
                if output["output_type"] == "stream":
                    assert output["name"] != "stderr", (name, output["text"][:300])
        # parameters were injected (papermill) and the seed is the one asked for
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_html_has_title_banner_figures_tables_and_no_code(rendered):
    _, _, results, _ = rendered
    for name, r in results.items():
        html = r.html.read_text(encoding="utf-8")
        assert "SIMULEREDE DATA" in html.split("<h1", 1)[0], name  # banner above the title
        assert re.search(r"<h1[^>]*>Bo trygt", html), name
        assert re.search(r'<img[^>]+src="data:image/png;base64', html), name
        assert "<table" in html, name
        for code in ("read_inputs(", "import warnings", "show_table("):
            assert code not in html, (name, code)
        figs = list((r.folder / "figurer").rglob("*.png"))
        tables = list((r.folder / "tabeller").glob("*.csv"))
        assert figs and tables, name
        for t in tables:
            assert (pd.read_csv(t)["data_source"] == "SIMULEREDE DATA / SIMULATED DATA").all()


def test_no_published_survey_cell_rests_on_fewer_than_the_threshold(rendered):
    _, _, results, suppressed_kommune = rendered
    seen_suppressed = False
    for name, r in results.items():
        for t in (r.folder / "tabeller").glob("*.csv"):
            frame = pd.read_csv(t)
            if "n" not in frame or "estimate" not in frame:
                continue
            if "suppressed" not in frame:  # survey tables carry the flag
                continue
            shown = frame[frame["estimate"].notna()]
            assert (shown["n"] >= MIN_CELL).all(), (name, t.name)
            assert frame.loc[frame["n"] < MIN_CELL, "suppressed"].all(), (name, t.name)
            seen_suppressed |= bool(frame["suppressed"].any())
        targets = r.folder / "tabeller" / "maal.csv"
        if targets.exists():
            m = pd.read_csv(targets)
            assert (m.loc[m["fear_share_pct"].notna(), "fear_n"] >= MIN_CELL).all()
    assert seen_suppressed, "the suppressed kommune's report should show blanked cells"
    page = results[f"kommune_{suppressed_kommune}"].html.read_text(encoding="utf-8")
    assert "undertrykt" in page


def test_provenance_records_version_parameters_seed_and_input_hashes(rendered):
    ws, _, results, _ = rendered
    files = sorted(p for p in ws.rglob("*") if p.is_file())
    expected = {str(p.relative_to(ws)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    for name, r in results.items():
        prov = json.loads((r.folder / "provenance.json").read_text(encoding="utf-8"))
        assert prov["package_version"]
        assert prov["parameters"]["seed"] == 3 and prov["parameters"]["year"] == 2025
        assert {f["fil"]: f["sha256"] for f in prov["inputs"]} == expected, name
        html = r.html.read_text(encoding="utf-8")
        # machine details stay out of what a municipality reads: the report points to the file
        assert expected["registers/partnerships.csv"] not in html, name
        assert "provenance.json" in html and str(ws) not in html, name
        assert prov["html_sha256"] == hashlib.sha256(r.html.read_bytes()).hexdigest(), name


def test_unchanged_report_is_skipped_and_a_changed_input_is_not(rendered, tmp_path):
    ws, out, results, _ = rendered
    again = render_report("activities", ws, out, seed=3, min_cell=MIN_CELL)
    assert again.skipped
    from botrygt_eval.reports.render import _key, input_hashes, template_path

    hashes = input_hashes(ws)
    params = {"year": 2025, "seed": 3}
    changed = [
        dict(h, sha256="0" * 64) if h["fil"].endswith("activities.csv") else h for h in hashes
    ]
    t = template_path("activities")
    assert _key(params, hashes, t) == _key(params, list(hashes), t)
    assert _key(params, hashes, t) != _key(params, changed, t)
    assert _key(params, hashes, t) != _key({**params, "seed": 4}, hashes, t)


def test_batch_skips_unchanged_kommuner_and_reports_a_failing_one(rendered):
    ws, out, _, suppressed_kommune = rendered
    outcomes = render_kommuner(ws, out, [suppressed_kommune, 9999], seed=3, cache=out / "_inputs",
                               jobs=2, national=True)  # fmt: skip
    assert (outcomes[0].kind, outcomes[0].kommune, outcomes[0].status) == ("national", None,
                                                                           "skipped")  # fmt: skip
    status = {o.kommune: o.status for o in outcomes[1:]}
    assert status == {suppressed_kommune: "skipped", 9999: "failed"}
    assert "9999" in next(o.error for o in outcomes if o.kommune == 9999)


BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
NO_BROWSER = (
    "no headless browser: install Debian's chromium (apt-get install -y chromium) "
    "to check the report screenshots"
)


def _screenshot(html, png) -> np.ndarray:
    from PIL import Image

    cmd = [BROWSER, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--window-size=1100,1600", f"--screenshot={png}", html.as_uri()]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert png.exists(), f"chromium wrote no screenshot of {html}"
    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def _red_rows(img: np.ndarray) -> np.ndarray:
    """Rows holding a run of the banner red (firebrick #b22222)."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    red = (abs(r - 178) < 30) & (g < 70) & (b < 70)
    return np.flatnonzero(red.sum(axis=1) > 40)


@pytest.mark.skipif(BROWSER is None, reason=NO_BROWSER)
def test_each_report_type_renders_with_banner_title_and_first_figure(rendered):
    _, out, results, _ = rendered
    kinds = {"national", "activities", "learning_review"}
    kinds.add(next(n for n in results if n.startswith("kommune_")))
    for name in sorted(kinds):
        r = results[name]
        img = _screenshot(r.html, r.folder / f"{name}_screenshot.png")
        assert img.shape[0] >= 1500 and img.shape[1] >= 1000
        rows = _red_rows(img)
        assert len(rows) and rows[0] < 60, f"{name}: no SIMULEREDE DATA banner at the top"
        # the title: dark text just under the banner
        title = img[rows[0] + 30 : rows[0] + 130]
        assert (title.sum(axis=2) < 200).sum() > 500, f"{name}: no title text under the banner"
        # the first chart: many coloured (saturated) pixels below the title, on the first screen
        chart = img[rows[0] + 150 :]
        sat = (chart.max(axis=2) - chart.min(axis=2)) > 60
        assert sat.sum() > 1500, f"{name}: the first figure is not visible on the first screen"


def test_local_monitoring_media_and_tile_map_sections(rendered):
    """Kommune reports show 'Lokal overvågning' exactly when the workspace has local data
    for the kommune (the fixture's partnership kommune, 101, has), never a cell under the
    disclosure threshold; every kommune report has the media chart; the national report
    has the tile map."""
    from botrygt_eval.reports.local import has_local_data

    ws, _, results, _ = rendered
    seen = False
    for name, r in results.items():
        if not name.startswith("kommune_"):
            continue
        html = r.html.read_text(encoding="utf-8")
        if has_local_data(ws, int(name.split("_")[1])):
            seen = True
            assert "Lokal overvågning" in html and "er skjult" in html, name
            for fig in ("lokal_indbrud", "lokal_nabohjaelp", "lokal_naergentagelse"):
                assert (r.folder / "figurer" / f"{fig}.png").exists(), (name, fig)
            cells = pd.read_csv(r.folder / "tabeller" / "lokal_celler.csv")
            assert len(cells) and not cells["suppressed"].any(), name
            count = cells["burglaries"]
            assert (count.eq(0) | count.ge(5)).all(), name  # 1-4 burglaries never published
            assert not {"date", "east_point", "lat", "lon"} & set(cells.columns)
        else:
            assert "Lokal overvågning" not in html, name
            assert not list((r.folder / "figurer").glob("lokal_*.png")), name
        assert "Mediedækning af indbrud" in html, name
        assert (r.folder / "figurer" / "medier_konstruktiv.png").exists(), name
    assert seen, "no kommune report with local data was rendered"
    national = results["national"]
    assert (national.folder / "figurer" / "kommuner_aendring.png").exists()
    assert "Indbrud i hver kommune" in national.html.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- English (issue 7)
@pytest.fixture(scope="module")
def rendered_en(rendered):
    """One English render of each report type, on the Danish renders' workspace and inputs.

    The kommune is the one without a partnership among the fixture's (no synthetic DiD
    to run) when there is one, so the four renders stay cheap.
    """
    ws, out, _, suppressed_kommune = rendered
    out_en = out.parent / "reports_en"
    results = {}
    for kind, k in [("national", None), ("activities", None), ("learning-review", None),
                    ("kommune", suppressed_kommune)]:  # fmt: skip
        r = render_report(kind, ws, out_en, kommune=k, seed=3, min_cell=MIN_CELL, lang="en",
                          cache=out / "_inputs")  # fmt: skip
        results[r.folder.name] = r
    return results


def _visible_text(html: str, tag: str) -> list[str]:
    """The text of every ``<tag>`` element (markup and anchor links stripped)."""
    import html as html_lib

    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, flags=re.S)
    return [html_lib.unescape(re.sub(r"<[^>]+>|¶", "", f)).strip() for f in found]


def test_english_reports_have_english_titles_headings_and_headers(rendered, rendered_en):
    from botrygt_eval.reference import kommune_name
    from botrygt_eval.text.catalogue import TEXT

    danish_only = {v["da"] for v in TEXT.values() if v["da"] != v["en"]}
    titles = {"national": "national", "activities": "activities",
              "learning_review": "learning-review"}  # fmt: skip
    for name, r in rendered_en.items():
        html = r.html.read_text(encoding="utf-8")
        kind = titles.get(name, "kommune")
        assert '<html lang="en">' in html, name
        assert "SIMULATED DATA" in html.split("<h1", 1)[0], name
        assert TEXT[f"title.{kind}"]["en"] in html, name
        assert TEXT[f"title.{kind}"]["da"] not in html, name
        danish = rendered[1] / r.folder.name / f"{r.folder.name}.html"
        assert '<html lang="da">' in danish.read_text(encoding="utf-8"), name
        place = kommune_name(int(name.split("_")[1])) if kind == "kommune" else ""
        for tag in ("h1", "h2", "h3", "th"):
            for text in _visible_text(html, tag):
                assert text not in danish_only, (name, tag, text)
                if tag != "th":  # table headers may be municipality names
                    left = text.replace(place, "").replace("Nabohjælp", "")
                    assert not re.search("[æøåÆØÅ]", left), (name, tag, text)
        # no leftover Danish of the templates' running text either
        for phrase in ("Kort fortalt", "Metode", "konfidensinterval", "kommuner", " svar)"):
            assert phrase not in html, (name, phrase)
    verdict = rendered_en["activities"].html.read_text(encoding="utf-8")
    assert re.search(r"<td[^>]*>(repeat|change|drop|insufficient evidence)</td>", verdict)
    assert not re.search(r"<td[^>]*>(gentag|ændr|utilstrækkelig evidens)</td>", verdict)
    kommune = next(r for n, r in rendered_en.items() if n.startswith("kommune_"))
    assert "suppressed" in kommune.html.read_text(encoding="utf-8")


def test_english_numbers_use_a_decimal_point(rendered_en):
    html = rendered_en["national"].html.read_text(encoding="utf-8")
    html = html.split("Documentation (provenance)")[0]  # not the package version "0.1.0"
    cells = _visible_text(html, "td")
    decimals = [c for c in cells if re.fullmatch(r"-?[\d.,]+", c) and re.search(r"[.,]\d$", c)]
    assert decimals, "the national report should show decimal numbers"
    assert all(re.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d+", c) for c in decimals), decimals[:10]


def test_national_key_results_carry_every_estimator_and_the_evidence_against_it(rendered):
    """The key results name every burglary estimator with its interval, say whether they
    agree, give the pre-trend verdict and the sensitivity breakdown value in plain Danish,
    and open with 'usikkert' exactly when the checks fail (issue 18)."""
    from botrygt_eval.text.catalogue import TEXT

    _, _, results, _ = rendered
    html = results["national"].html.read_text(encoding="utf-8")
    key = html[html.index("Hovedresultater") : html.index(TEXT["national.h_burglary"]["da"])]
    for est in ("To-vejs fixed effects (TWFE)", "Callaway-Sant'Anna (endnu ikke behandlede som "
                "kontrol)", "Poisson (PPML, husstande som offset)"):  # fmt: skip
        assert est in key, est
    assert ("Metoderne er enige" in key) != ("Metoderne er ikke enige" in key)
    assert "parallelt" in key or "allerede hurtigere" in key or "langsommere" in key
    assert "gange den største" in key or "rummer intervallet 0" in key
    table = pd.read_csv(results["national"].folder / "tabeller" / "hovedresultat_metoder.csv")
    assert len(table) == 3 and table[["ci_low", "ci_high"]].notna().all().all()
    robust = "Resultatet er robust" in key
    assert robust != ("Resultatet er usikkert" in key)


def test_a_failed_rerender_keeps_the_last_good_report_whole(rendered, monkeypatch):
    """A render that fails midway (after writing a figure) leaves the previous HTML,
    figures and provenance exactly as they were; a truncated HTML is rendered again,
    never taken as unchanged (issue 18)."""
    import papermill as pm

    ws, out, results, _ = rendered
    folder = results["activities"].folder
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def fail(template, nb, parameters, **kw):
        (Path(parameters["out_dir"]) / "figurer").mkdir(parents=True, exist_ok=True)
        (Path(parameters["out_dir"]) / "figurer" / "half_done.png").write_bytes(b"x")
        raise pm.PapermillExecutionError(3, 3, "boom", "ValueError", "boom", [])

    monkeypatch.setattr(pm, "execute_notebook", fail)
    with pytest.raises(ReportError, match="last good report, if any, is unchanged"):
        render_report("activities", ws, out, seed=3, min_cell=MIN_CELL, force=True,
                      cache=out / "_inputs")  # fmt: skip
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    monkeypatch.undo()
    html = results["activities"].html
    html.write_bytes(html.read_bytes()[: len(before[html.relative_to(folder)]) // 2])
    again = render_report("activities", ws, out, seed=3, min_cell=MIN_CELL, cache=out / "_inputs")
    assert not again.skipped and again.html.read_bytes() != html.read_bytes()[:10]
    assert html.read_text(encoding="utf-8").rstrip().endswith("</html>")
