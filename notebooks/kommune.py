# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
import matplotlib.pyplot as plt

from botrygt_eval.did.compare import OWN_EFFECT_METHODS, own_effect
from botrygt_eval.reference import kommune_name, politikreds_of
from botrygt_eval.reports.charts import (
    plot_burglary_lines,
    plot_district,
    plot_survey_trends,
    plot_synth_years,
)
from botrygt_eval.reports.inputs import read_inputs
from botrygt_eval.reports.output import say, show_figure, show_table, start
from botrygt_eval.reports.sentences import (
    comparison_kommuner,
    own_effect_sentence,
    survey_gap_lines,
)
from botrygt_eval.reports.tables import (
    activity_summary,
    district_survey,
    kommune_burglary,
    own_effect_table,
    survey_table,
    synth_in_years,
    targets_long,
    targets_table,
)
from botrygt_eval.text.catalogue import cols, date, label, num, t


def p(x, digits=1):
    """A number in the report's language (decimal comma in Danish)."""
    return num(x, lang, digits)


navn = kommune_name(kommune)
say(f"# {t('kommune.title', lang, name=navn, year=year)}")
out = start(out_dir, simulated, lang)
inp = read_inputs(cache_dir)
panel_y, est = inp["panel_year"], inp["survey_estimates"]
partner = inp["partnerships"][inp["partnerships"]["kommune_kode"].eq(kommune)]
changes = inp["group_changes"]
changes = changes[changes["kommune_kode"].eq(kommune)] if len(changes) else changes
if len(changes):  # this kommune's partnership line was quarantined: say so first
    say(t("common.group_changes", lang, n=len(changes), items="; ".join(
        t("common.group_change", lang, kommune=r.kommune, line=r.line, file=r.file, reason=r.reason)
        for r in changes.itertuples())))  # fmt: skip

# %%
say(f"## {t('common.in_short', lang)}")
burg = kommune_burglary(panel_y, kommune, lang)
own = burg[burg["enhed"].eq(navn) & burg["year"].le(year)].set_index("year")
last = int(own["rate"].dropna().index.max())
first = int(own.index.min())
surv = survey_table(est, year, kommune, min_cell, lang).set_index("variable")
lines = []
if len(partner):
    signed = partner["signed_date"].iloc[0]
    lines.append(t("kommune.signed", lang, name=navn, district=politikreds_of(kommune),
                   date=date(signed, lang)))  # fmt: skip
else:
    lines.append(t("kommune.no_partnership", lang, name=navn))
lines.append(t("kommune.burglaries", lang, year=last, n=num(own.loc[last, "burglaries"], lang, 0),
               rate=p(own.loc[last, "rate"]), first=first, first_rate=p(own.loc[first, "rate"])))  # fmt: skip
if "fear_burglary" in surv.index:
    r = surv.loc["fear_burglary"]
    if r["suppressed"]:
        lines.append(t("kommune.fear_suppressed", lang, year=year))
    else:
        lines.append(t("kommune.fear", lang, year=year, est=p(r["estimate"]), lo=p(r["ci_low"]),
                       hi=p(r["ci_high"]), n=int(r["n"])))  # fmt: skip
say("\n".join(f"- {line}" for line in lines))

# %%
say(f"## {t('kommune.h_burglary', lang)}\n{t('kommune.similar_note', lang)}")
fig = plot_burglary_lines(burg, "enhed", t("kommune.fig_burglary", lang, name=navn),
                          highlight=navn, lang=lang)  # fmt: skip
show_figure(out.figure(fig, "indbrud"), lang=lang)
plt.close(fig)
wide = burg.pivot(index="year", columns="enhed", values="rate")[
    burg["enhed"].unique()
].reset_index()
out.table(burg, "indbrud")
show_table(wide, {c: (t("col.year", lang) if c == "year" else c) for c in wide.columns}, lang=lang)

# %%
say(f"## {t('kommune.h_survey', lang)}\n{t('kommune.survey_intro', lang, min_cell=min_cell)}")
for line in survey_gap_lines(inp.get("survey_gaps"), kommune, lang):
    say(line)
show_table(out.table(survey_table(est, year, kommune, min_cell, lang), f"borgerundersoegelse_{year}"),
           cols(lang, "maal", "enhed", "estimate", "ci_low", "ci_high", "n"), lang=lang)  # fmt: skip
fig = plot_survey_trends(est, kommune, t("kommune.fig_survey", lang, name=navn),
                         min_cell=min_cell, lang=lang)  # fmt: skip
show_figure(out.figure(fig, "borgerundersoegelse_udvikling"), lang=lang)
plt.close(fig)
dist = district_survey(est, kommune, "fear_burglary", year, min_cell, lang)
fig = plot_district(dist, label("outcome", "fear_burglary", lang),
                    t("kommune.fig_district", lang, district=dist.attrs["politikreds"], year=year),
                    lang=lang)  # fmt: skip
show_figure(out.figure(fig, "politikreds_bekymring"), lang=lang)
plt.close(fig)
_ = out.table(dist, "politikreds_bekymring")

# %%
say(f"## {t('kommune.h_own_effect', lang)}\n{t('kommune.own_effect_intro', lang)}")
effect, effect_fits = (
    own_effect(inp["panel_quarter"], kommune, seed=seed) if len(partner) else (None, None)
)
if len(partner) and effect is None:
    say(t("kommune.too_new", lang, signed=date(partner["signed_date"].min(), lang)))
elif len(partner):
    synth = own_effect_table(effect, lang)
    synth_res = effect_fits[OWN_EFFECT_METHODS[0]]  # the headline method: synthetic DiD
    out.table(synth, "egen_effekt")
    say(own_effect_sentence(synth, navn, lang))
    show_table(synth, cols(lang, "metode", "effekt_pct", "ki_fra_pct", "ki_til_pct"), lang=lang)
    years = out.table(synth_in_years(synth_res, inp["panel_quarter"], kommune), "egen_effekt_aar")
    fig = plot_synth_years(years, navn, f"{label('synth', synth_res.method, lang)}: {navn}",
                           lang=lang)  # fmt: skip
    show_figure(out.figure(fig, "egen_effekt"), t("kommune.synth_alt", lang), lang=lang)
    plt.close(fig)
    say(t("kommune.comparison_kommuner", lang, names=comparison_kommuner(synth_res, lang=lang),
          name=navn))  # fmt: skip
else:
    say(t("kommune.no_own_effect", lang))

# %%
say(f"## {t('kommune.h_targets', lang)}")
kpi = inp["partnership_kpis"]
kpi = kpi[kpi["kommune_kode"].eq(kommune)] if len(kpi) else kpi
if len(kpi):
    tp = out.table(targets_table(kpi, lang), "maal")
    row = tp.iloc[0]
    say(t("kommune.targets_period", lang, base=int(row["baseline_year"]),
          judged=int(row["judged_year"]), status=row["status"]))  # fmt: skip
    show_table(targets_long(kpi.iloc[0], lang),
               cols(lang, "maal_type", "maalsaetning", "resultat", "vurdering"), lang=lang)  # fmt: skip
    say(t("kommune.targets_net", lang, similar=row["similar_kommuner"]))
else:
    say(t("kommune.no_targets", lang))

# %%
say(f"## {t('kommune.h_activities', lang)}")
acts = activity_summary(inp["activities"], kommune, lang)
if len(acts):
    out.table(acts, "aktiviteter")
    show_table(acts, cols(lang, "year", "aktivitet", "antal", "reach", "cost_dkk"), digits=0,
               lang=lang)  # fmt: skip
else:
    say(t("kommune.no_activities", lang))

# %%
from botrygt_eval.reports.local import show_local_monitoring, show_media_series

local = show_local_monitoring(out, data_dir, kommune, seed=seed, lang=lang)
media = show_media_series(out, data_dir, cache_dir, kommune, lang=lang)

# %%
say(f"## {t('common.methods', lang)}\n{t('kommune.methods', lang, min_cell=min_cell)}")

# %%
say(f"## {t('common.provenance', lang)}\n{t('common.provenance_note', lang)}")
