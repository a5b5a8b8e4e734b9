# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: botrygt-eval
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
data_dir = "out/workspace"
cache_dir = "out/reports/_inputs"
out_dir = "out/reports/national"
year = 2025
kommune = None
seed = 2018
lang = "da"
min_cell = 10
simulated = True

# %% [markdown]
# # Bo trygt: national evaluering

# %%
# ruff: noqa: E402
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from botrygt_eval.did.diagnostics import (
    bacon_decomposition,
    randomization_inference,
    relative_magnitude_bounds,
)
from botrygt_eval.did.twfe import event_study
from botrygt_eval.reports_content import (
    BACON_TYPES,
    balanced,
    burglary_trends,
    effects_table,
    plot_burglary_lines,
    plot_survey_trends,
    provenance_table,
    read_inputs,
    say,
    show_figure,
    show_table,
    start,
    survey_table,
    targets_progress,
)
from botrygt_eval.reports_content import pct as p

warnings.filterwarnings("ignore")
out = start(out_dir, simulated)
inp = read_inputs(cache_dir)
panel_q, panel_y, est = inp["panel_quarter"], inp["panel_year"], inp["survey_estimates"]
partnerships = inp["partnerships"]
if "partnership_effects" in inp:
    effects = inp["partnership_effects"].drop(
        columns=["data_source", "true_effect"], errors="ignore"
    )
else:
    from botrygt_eval.evaluation import burglary_effects, survey_effects

    effects = pd.concat(
        [burglary_effects(panel_q, seed=seed)[0], survey_effects(est, partnerships)]
    )
keys = dict(unit="kommune_kode", time="period", cohort="cohort", outcome="log_rate")
es = event_study(panel_q, leads=8, lags=12, **keys)

# %% [markdown]
# ## Hovedresultater

# %%
cs = effects[
    effects["estimator"].str.startswith("Callaway") & effects["outcome"].eq("log_rate")
].iloc[0]
fear = effects[effects["outcome"].eq("fear_burglary")]
nat = survey_table(est, year, None, min_cell).set_index("variable")
change = 100 * (np.exp(cs[["estimate", "ci_low", "ci_high"]].astype(float)) - 1)
lines = [
    f"- **{len(partnerships)} kommuner** har indgået et Bo trygt-partnerskab med politiet.",
    f"- Efter partnerskabets start ændrede antallet af anmeldte indbrud i boliger sig med "
    f"**{p(change['estimate'])} %** i forhold til, hvad man ville forvente uden partnerskab "
    f"(95 %-konfidensinterval {p(change['ci_low'])} til {p(change['ci_high'])} %; "
    f"{int(cs['n_units'])} kommuner, Callaway-Sant'Anna).",
]
if len(fear):
    f = fear.iloc[0]
    lines.append(
        f"- Andelen, der er bekymrede for indbrud, ændrede sig med **{p(100 * f['estimate'])} "
        f"procentpoint** (95 %-KI {p(100 * f['ci_low'])} til {p(100 * f['ci_high'])}; "
        f"{int(f['n_units'])} kommuner).")  # fmt: skip
if "fear_burglary" in nat.index:
    r = nat.loc["fear_burglary"]
    lines.append(
        f"- I {year} var **{p(r['estimate'])} %** af de voksne bekymrede for indbrud "
        f"(95 %-KI {p(r['ci_low'])} til {p(r['ci_high'])} %; {int(r['n'])} svar).")  # fmt: skip
lines.append("- Et konfidensinterval, der indeholder 0, betyder, at data ikke kan skelne "
             "effekten fra ingen effekt.")  # fmt: skip
say("\n".join(lines))

# %% [markdown]
# ## Indbrud i partnerskabskommuner og øvrige kommuner

# %%
trends = out.table(burglary_trends(panel_y), "indbrud_udvikling")
fig = plot_burglary_lines(trends, "gruppe", "Anmeldte indbrud i boliger pr. 1.000 husstande")
show_figure(out.figure(fig, "indbrud_udvikling"))
plt.close(fig)

# %% [markdown]
# ## Partnerskabernes effekt (difference-in-differences)
# Hver række er én metode. For indbrud er effekten omregnet til procent ændring i antal
# indbrud; for spørgeskemaet er den i procentpoint. Alle med 95 %-konfidensinterval.

# %%
show_table(out.table(effects_table(effects), "effekter"),
           {"maal": "Mål", "metode": "Metode", "estimate_pct": "Effekt", "ci_low_pct": "95 %-KI fra",
            "ci_high_pct": "95 %-KI til", "enhed": "Enhed", "n_units": "Kommuner",
            "n_obs": "Observationer"})  # fmt: skip
ax = es.plot(title="Indbrud pr. 1.000 husstande før og efter partnerskabets start (TWFE)")
fig = ax if hasattr(ax, "savefig") else ax.figure
show_figure(out.figure(fig, "event_study"))
plt.close(fig)
_ = out.table(es.to_frame(), "event_study")

# %% [markdown]
# ## Tryghed og forebyggelse (borgerundersøgelsen, vægtet)

# %%
fig = plot_survey_trends(est, None, "Borgerundersøgelsen, hele landet", min_cell=min_cell)
show_figure(out.figure(fig, "borgerundersoegelse_udvikling"))
plt.close(fig)
show_table(out.table(survey_table(est, year, None, min_cell), f"borgerundersoegelse_{year}"),
           {"maal": "Mål", "enhed": "Enhed", "estimate": "Skøn", "ci_low": "95 %-KI fra",
            "ci_high": "95 %-KI til", "n": "Antal svar"})  # fmt: skip

# %% [markdown]
# ## Robusthed
# Holder resultatet, når forudsætningerne udfordres? Parallelle forløb før start
# (pre-trend-test), hvilke sammenligninger TWFE bygger på (Bacon-dekomposition), en
# permutationstest uden fordelingsantagelser, og hvor store brud på parallelle forløb
# resultatet tåler (følsomhedsanalyse).

# %%
pre = es.pretrend
panel_b, dropped = balanced(panel_q)
bacon = bacon_decomposition(panel_b, **keys)
ri = randomization_inference(panel_b, n_perm=499, seed=seed, **keys)
sens = relative_magnitude_bounds(es)
say(f"- Pre-trend-test (alle perioder før start = 0): χ²({int(pre['df'])}) = {p(pre['stat'], 2)}, "
    f"p = {p(pre['pvalue'], 3)}. En høj p-værdi er svag evidens for parallelle forløb.\n"
    f"- Permutationstest (499 tilfældige omfordelinger af starttidspunkter, seed {seed}): "
    f"p = {p(ri.to_frame()['pvalue'].iloc[0], 3)}.\n"
    f"- Bacon-dekomposition og permutationstest bruger de {panel_b['kommune_kode'].nunique()} "
    f"kommuner med data i alle kvartaler (udeladt: {', '.join(map(str, dropped)) or 'ingen'}).")  # fmt: skip
bt = out.table(bacon.by_type().assign(sammenligning=lambda d: d["type"].map(BACON_TYPES)), "bacon")
show_table(
    bt, {"sammenligning": "Sammenligning i TWFE", "weight": "Vægt", "estimate": "Skøn"}, digits=3
)
fig = sens.plot().figure
show_figure(out.figure(fig, "foelsomhed"))
plt.close(fig)
_ = out.table(sens.to_frame(), "foelsomhed")

# %% [markdown]
# ## Fremdrift mod partnerskabernes mål

# %%
targets = out.table(targets_progress(partnerships, panel_y, inp["nabohjaelp"], est, year, min_cell),
                    "maal")  # fmt: skip
say(f"{int(targets['indbrud_maal_naaet'].eq(True).sum())} af {len(targets)} partnerskaber har nået "
    f"deres mål for færre indbrud (ændring fra basisåret til seneste år).")  # fmt: skip
show_table(targets, {"kommune": "Kommune", "basisaar": "Basisår", "indbrud_aendring_pct": "Indbrud, ændring %",
                     "indbrud_maal_pct": "Indbrud, mål %", "nabohjaelp_medlemmer": "Nabohjælp",
                     "nabohjaelp_maal": "Nabohjælp, mål", "bekymrede_pct": "Bekymrede %",
                     "bekymrede_n": "Antal svar", "bekymrede_maal_pct": "Bekymrede, mål %"})  # fmt: skip

# %% [markdown]
# ## Metode
# - **Indbrud**: anmeldte indbrud i boliger (Danmarks Statistik, STRAF11) pr. 1.000 husstande
#   (FAM55N), kommune × kvartal. En kommune regnes som behandlet fra første hele kvartal
#   efter underskrift.
# - **Effekter**: Callaway-Sant'Anna (endnu ikke behandlede kommuner som kontrol, doubly robust),
#   to-vejs fixed effects (TWFE) og Poisson (PPML) med husstande som offset; standardfejl
#   klynget på kommune. Spørgeskemaets effekter: Callaway-Sant'Anna på kommunernes vægtede årsskøn.
# - **Borgerundersøgelsen**: designvægte kalibreret (raking) til befolkningen efter kommune,
#   køn og alder; designbaserede standardfejl der tager højde for kalibreringen. Celler med
#   færre end 10 svar vises ikke.
# - **Robusthed**: Wald-test af perioderne før start, Goodman-Bacon-dekomposition,
#   permutationstest (Fisher) og Rambachan-Roth-grænser (relative størrelser).

# %% [markdown]
# ## Dokumentation (proveniens)

# %%
params, files = provenance_table(f"{out_dir}/provenance.json")
show_table(params, {"felt": "Felt", "vaerdi": "Værdi"})
show_table(files, {"fil": "Inputfil", "sha256": "SHA-256", "bytes": "Bytes"})
