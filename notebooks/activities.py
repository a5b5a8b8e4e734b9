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
out_dir = "out/reports/activities"
year = 2025
kommune = None
seed = 2018
lang = "da"
min_cell = 10
simulated = True

# %% [markdown]
# # Bo trygt: aktiviteter (gentag, ændr eller drop)

# %%
# ruff: noqa: E402
import importlib.util
import warnings

import matplotlib.pyplot as plt

from botrygt_eval.reports_content import (
    ACTIVITY_LABELS,
    activity_summary,
    activity_totals,
    plot_activity_bars,
    provenance_table,
    read_inputs,
    say,
    show_figure,
    show_table,
    start,
)

warnings.filterwarnings("ignore")
out = start(out_dir, simulated)
inp = read_inputs(cache_dir)
acts = inp["activities"]
has_judgement = importlib.util.find_spec("botrygt_eval.activities") is not None

# %% [markdown]
# ## Kort fortalt

# %%
totals = out.table(activity_totals(acts), "aktiviteter_i_alt")
say(f"- Aktivitetsloggen har **{len(acts)} aktiviteter** i {acts['kommune_kode'].nunique()} kommuner.\n"
    f"- Den hyppigste type er **{totals['aktivitet'].iloc[0].lower()}** ({int(totals['antal'].iloc[0])} aktiviteter).\n"
    f"- Rækkevidde og udgift er kun summeret over de aktiviteter, der har oplyst dem "
    f"(kolonnerne 'med rækkevidde' og 'med udgift').")  # fmt: skip

# %% [markdown]
# ## Aktiviteter efter type

# %%
fig = plot_activity_bars(totals, "Aktiviteter i Bo trygt-partnerskaberne")
show_figure(out.figure(fig, "aktiviteter"))
plt.close(fig)
show_table(totals, {"aktivitet": "Aktivitet", "antal": "Antal", "reach": "Nået", "n_reach": "Med rækkevidde",
                    "cost_dkk": "Udgift (kr.)", "n_cost": "Med udgift", "kr_pr_naaet": "Kr. pr. nået"},
           digits=0)  # fmt: skip

# %% [markdown]
# ## Aktiviteter efter år

# %%
by_year = out.table(activity_summary(acts), "aktiviteter_pr_aar")
wide = by_year.pivot_table(index="aktivitet", columns="year", values="antal", aggfunc="sum",
                           fill_value=0).reset_index()  # fmt: skip
show_table(wide, {c: (str(c) if c != "aktivitet" else "Aktivitet") for c in wide.columns}, digits=0)

# %% [markdown]
# ## Virker aktiviteterne? Gentag, ændr eller drop

# %%
if has_judgement:
    from botrygt_eval.activities import evaluate_activities, load_activity_workspace

    ev = evaluate_activities(
        load_activity_workspace(data_dir, quarantine_dir=f"{out_dir}/karantaene")
    )
    d = ev.decisions.assign(aktivitet=lambda x: x["activity_type"].map(ACTIVITY_LABELS),
                            ci_low_pct=lambda x: 100 * (2.718281828459045 ** x["ci_low"] - 1),
                            ci_high_pct=lambda x: 100 * (2.718281828459045 ** x["ci_high"] - 1))  # fmt: skip
    out.table(d, "vurdering")
    say("Effekten er den anslåede ændring i anmeldte indbrud pr. aktivitet, mens den virker, "
        "med 95 %-konfidensinterval. Vurderingen følger beslutningsreglen i docs/ACTIVITIES.md.")  # fmt: skip
    show_table(d, {"aktivitet": "Aktivitet", "n_activities": "Antal", "n_kommuner": "Kommuner",
                   "effect_pct": "Effekt %", "ci_low_pct": "95 %-KI fra", "ci_high_pct": "95 %-KI til",
                   "verdict": "Vurdering"})  # fmt: skip
    ax = ev.plot()
    show_figure(out.figure(ax.figure, "vurdering"))
    plt.close(ax.figure)
    say("\n".join(f"- **{a}**: {r}" for a, r in zip(d["aktivitet"], d["reasons"], strict=True)))
else:
    say("**Vurderingen af de enkelte aktiviteters effekt er endnu ikke tilgængelig** "
        "(modulet botrygt_eval.activities mangler). Tabellerne ovenfor viser kun, hvad der er lavet.")  # fmt: skip

# %% [markdown]
# ## Konstruktiv mediedækning pr. partnerskab

# %%
from botrygt_eval.media.pipeline import analyse_media, has_media

if has_media(data_dir) and has_judgement:
    from botrygt_eval.kpi import partnership_kpis
    from botrygt_eval.media.kpi import add_media_kpis
    from botrygt_eval.media.plots import media_series_figure
    from botrygt_eval.reports_content import pct

    media = analyse_media(data_dir, min_n=min_cell, quarantine_dir=f"{out_dir}/karantaene")
    kpis = add_media_kpis(partnership_kpis(load_activity_workspace(data_dir)), media.coded,
                          min_n=min_cell)  # fmt: skip
    m = kpis.assign(**{c: 100 * kpis[c] for c in ("media_constructive_before", "media_constructive_since",
                       "media_constructive_since_ci_low", "media_constructive_since_ci_high")})  # fmt: skip
    out.table(m[["kommune_kode", "kommune", "latest_year", *[c for c in m.columns if c.startswith("media_")]]],
              "medier_pr_partnerskab")  # fmt: skip
    fig = media_series_figure(media.series[media.series["scope"] == "national"])
    show_figure(out.figure(fig, "konstruktiv_presse"))
    say("Konstruktiv: artiklen om indbrud følger op med et af de fem råd eller en anden "
        "handlingsanvisning (Bo trygt-principperne, princip 3), kodet med ordbogen i docs/MEDIA.md. "
        f"Andele bygget på færre end {min_cell} indbrudsartikler vises ikke.")  # fmt: skip
    show_table(m, {"kommune": "Kommune", "media_burglary_articles": "Indbrudsartikler seneste år",
                   "media_bo_trygt_mentions": "Omtaler af Bo trygt seneste år",
                   "media_constructive_before": "Konstruktive før aftalen %",
                   "media_constructive_before_n": "Artikler før",
                   "media_constructive_since": "Konstruktive siden aftalen %",
                   "media_constructive_since_ci_low": "95 %-KI fra",
                   "media_constructive_since_ci_high": "95 %-KI til",
                   "media_constructive_since_n": "Artikler siden"}, digits=0)  # fmt: skip
    if media.agreement is not None:
        k = media.agreement["constructive"]
        say(f"Kodningen stemmer overens med en håndkodet stikprøve på {k['n']} artikler: "
            f"Cohens kappa {pct(k['kappa'], 2)} (95 %-KI {pct(k['ci_low'], 2)} til "
            f"{pct(k['ci_high'], 2)}).")  # fmt: skip
else:
    say("Der er ingen medieartikler i datamappen (media/articles.csv), så den konstruktive "
        "mediedækning kan ikke opgøres. Formatet er beskrevet i docs/DATA_FORMATS.md.")  # fmt: skip

# %% [markdown]
# ## Metode
# - Aktivitetsloggen (registers/activities.csv): én række pr. aktivitet med type, start, rækkevidde og udgift.
# - Effekten pr. aktivitetstype er skønnet i én to-vejs fixed effects-model for alle typer på
#   kommune × kvartal, med kontrol for partnerskabets egen udvikling; standardfejl klynget på kommune.

# %% [markdown]
# ## Dokumentation (proveniens)

# %%
params, files = provenance_table(f"{out_dir}/provenance.json")
show_table(params, {"felt": "Felt", "vaerdi": "Værdi"})
show_table(files, {"fil": "Inputfil", "sha256": "SHA-256", "bytes": "Bytes"})
