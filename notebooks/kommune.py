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
out_dir = "out/reports/kommune_851"
year = 2025
kommune = 851
seed = 2018
lang = "da"
min_cell = 10
simulated = True

# %%
# ruff: noqa: E402
import warnings

import matplotlib.pyplot as plt

from botrygt_eval.reference import kommune_name, politikreds_of
from botrygt_eval.reports_content import (
    OUTCOME_LABELS,
    activity_summary,
    district_survey,
    kommune_burglary,
    plot_burglary_lines,
    plot_district,
    plot_survey_trends,
    provenance_table,
    read_inputs,
    say,
    show_figure,
    show_table,
    start,
    survey_table,
    synth_comparison,
    targets_progress,
)
from botrygt_eval.reports_content import pct as p

warnings.filterwarnings("ignore")
navn = kommune_name(kommune)
say(f"# Bo trygt: kommunerapport for {navn} ({year})")
out = start(out_dir, simulated)
inp = read_inputs(cache_dir)
panel_y, est = inp["panel_year"], inp["survey_estimates"]
partner = inp["partnerships"][inp["partnerships"]["kommune_kode"].eq(kommune)]

# %% [markdown]
# ## Kort fortalt

# %%
burg = kommune_burglary(panel_y, kommune)
own = burg[burg["enhed"].eq(navn) & burg["year"].le(year)].set_index("year")
last = int(own["rate"].dropna().index.max())
first = int(own.index.min())
surv = survey_table(est, year, kommune, min_cell).set_index("variable")
lines = []
if len(partner):
    signed = partner["signed_date"].iloc[0]
    lines.append(f"- {navn} indgik Bo trygt-partnerskab med {politikreds_of(kommune)} "
                 f"den {signed:%d.%m.%Y}.")  # fmt: skip
else:
    lines.append(f"- {navn} har ikke et Bo trygt-partnerskab i registeret.")
lines.append(f"- I {last} blev der anmeldt **{int(own.loc[last, 'burglaries'])} indbrud** i boliger, "
             f"{p(own.loc[last, 'rate'])} pr. 1.000 husstande (i {first}: {p(own.loc[first, 'rate'])}).")  # fmt: skip
if "fear_burglary" in surv.index:
    r = surv.loc["fear_burglary"]
    if r["suppressed"]:
        lines.append(f"- Borgerundersøgelsen {year}: for få svar til at vise andelen af bekymrede.")
    else:
        lines.append(f"- I borgerundersøgelsen {year} var **{p(r['estimate'])} %** bekymrede for "
                     f"indbrud (95 %-KI {p(r['ci_low'])} til {p(r['ci_high'])} %; {int(r['n'])} svar).")  # fmt: skip
say("\n".join(lines))

# %% [markdown]
# ## Indbrud sammenlignet med politikredsen og lignende kommuner
# "Lignende kommuner" er de fem kommuner, der har det nærmeste antal husstande.

# %%
fig = plot_burglary_lines(burg, "enhed", f"Anmeldte indbrud i boliger: {navn}", highlight=navn)
show_figure(out.figure(fig, "indbrud"))
plt.close(fig)
wide = burg.pivot(index="year", columns="enhed", values="rate")[
    burg["enhed"].unique()
].reset_index()
out.table(burg, "indbrud")
show_table(wide, {c: ("År" if c == "year" else c) for c in wide.columns})

# %% [markdown]
# ## Borgerundersøgelsen
# Vægtede skøn med 95 %-konfidensinterval. Tal bygget på færre end 10 svar vises ikke.

# %%
show_table(out.table(survey_table(est, year, kommune, min_cell), f"borgerundersoegelse_{year}"),
           {"maal": "Mål", "enhed": "Enhed", "estimate": "Skøn", "ci_low": "95 %-KI fra",
            "ci_high": "95 %-KI til", "n": "Antal svar"})  # fmt: skip
fig = plot_survey_trends(est, kommune, f"Borgerundersøgelsen: {navn}", min_cell=min_cell)
show_figure(out.figure(fig, "borgerundersoegelse_udvikling"))
plt.close(fig)
dist = district_survey(est, kommune, "fear_burglary", year, min_cell)
fig = plot_district(dist, OUTCOME_LABELS["fear_burglary"],
                    f"Bekymrede for indbrud i {dist.attrs['politikreds']}, {year}")  # fmt: skip
show_figure(out.figure(fig, "politikreds_bekymring"))
plt.close(fig)
_ = out.table(dist, "politikreds_bekymring")

# %% [markdown]
# ## Gjorde partnerskabet en forskel her?
# Kommunen sammenlignes med en "syntetisk" udgave af sig selv: et vægtet gennemsnit af
# kommuner uden partnerskab, der fulgte kommunens indbrudstal før partnerskabet. Forskellen
# efter starten er skønnet over partnerskabets effekt. Intervallet kommer fra placebo-kørsler
# på kommunerne uden partnerskab; for én kommune er usikkerheden stor.

# %%
if len(partner):
    synth, synth_res = synth_comparison(inp["panel_quarter"], kommune, seed)
    out.table(synth, "egen_effekt")
    show_table(synth, {"metode": "Metode", "effekt_pct": "Effekt på indbrud, %",
                       "ki_fra_pct": "95 %-KI fra", "ki_til_pct": "95 %-KI til",
                       "foer_rmse": "Tilpasning før start (RMSE, log)"})  # fmt: skip
    axes = synth_res.plot()
    fig = axes.flat[0].figure if hasattr(axes, "flat") else axes.figure
    show_figure(out.figure(fig, "egen_effekt"), "Kommunen og dens syntetiske sammenligning")
    plt.close(fig)
else:
    say("Kommunen har ingen partnerskabsaftale; her er ingen egen effekt at skønne.")

# %% [markdown]
# ## Mål i partnerskabsaftalen

# %%
if len(partner):
    t = targets_progress(partner, panel_y, inp["nabohjaelp"], est, year, min_cell)
    out.table(t, "maal")
    show_table(t, {"basisaar": "Basisår", "seneste_aar": "Seneste år",
                   "indbrud_aendring_pct": "Indbrud, ændring %", "indbrud_maal_pct": "Indbrud, mål %",
                   "nabohjaelp_medlemmer": "Nabohjælp", "nabohjaelp_maal": "Nabohjælp, mål",
                   "bekymrede_pct": "Bekymrede %", "bekymrede_maal_pct": "Bekymrede, mål %"})  # fmt: skip
else:
    say("Kommunen har ingen partnerskabsaftale og derfor ingen mål.")

# %% [markdown]
# ## Aktiviteter

# %%
acts = activity_summary(inp["activities"], kommune)
if len(acts):
    out.table(acts, "aktiviteter")
    show_table(acts, {"year": "År", "aktivitet": "Aktivitet", "antal": "Antal", "reach": "Nået",
                      "cost_dkk": "Udgift (kr.)"}, digits=0)  # fmt: skip
else:
    say("Der er ingen aktiviteter i aktivitetsloggen for kommunen.")

# %%
from botrygt_eval.reports_local import show_local_monitoring, show_media_series

local = show_local_monitoring(out, data_dir, kommune, seed=seed, lang=lang)
media = show_media_series(out, data_dir, cache_dir, kommune, lang=lang)

# %% [markdown]
# ## Metode
# - Indbrud: anmeldte indbrud i boliger (STRAF10/11) pr. 1.000 husstande (FAM55N).
#   Politikredsen og de lignende kommuner er lagt sammen (summen af indbrud over summen af husstande).
# - Borgerundersøgelsen: designvægte kalibreret til befolkningen (kommune, køn, alder),
#   designbaserede standardfejl; celler med færre end 10 svar er undertrykt.
# - Partnerskabets samlede effekt vurderes i den nationale rapport (difference-in-differences);
#   én kommunes tal alene kan ikke skille effekten fra den generelle udvikling.

# %% [markdown]
# ## Dokumentation (proveniens)

# %%
params, files = provenance_table(f"{out_dir}/provenance.json")
show_table(params, {"felt": "Felt", "vaerdi": "Værdi"})
show_table(files, {"fil": "Inputfil", "sha256": "SHA-256", "bytes": "Bytes"})
