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
out_dir = "out/reports/activities"
year = 2025
kommune = None
seed = 2018
lang = "da"
min_cell = 10
simulated = True

# %%
# ruff: noqa: E402
import importlib.util

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from botrygt_eval.activities.reasons import activity_reasons
from botrygt_eval.reports.charts import plot_activity_bars
from botrygt_eval.reports.inputs import read_inputs
from botrygt_eval.reports.output import say, show_figure, show_table, start
from botrygt_eval.reports.sentences import interval_text
from botrygt_eval.reports.tables import activity_summary, activity_totals
from botrygt_eval.text.catalogue import cols, labels, num, t

say(f"# {t('activities.title', lang)}")
out = start(out_dir, simulated, lang)
inp = read_inputs(cache_dir)
acts = inp["activities"]
has_judgement = importlib.util.find_spec("botrygt_eval.activities") is not None

# %%
say(f"## {t('common.in_short', lang)}")
totals = out.table(activity_totals(acts, lang), "aktiviteter_i_alt")
say(t("activities.summary", lang, n=num(len(acts), lang, 0), k=acts["kommune_kode"].nunique(),
      top=totals["aktivitet"].iloc[0].lower(), n_top=int(totals["antal"].iloc[0])))  # fmt: skip

# %%
say(f"## {t('activities.h_by_type', lang)}")
fig = plot_activity_bars(totals, t("activities.fig_bars", lang), lang=lang)
show_figure(out.figure(fig, "aktiviteter"), lang=lang)
plt.close(fig)
show_table(totals, cols(lang, "aktivitet", "antal", "reach", "n_reach", "cost_dkk", "n_cost",
                        "kr_pr_naaet"), digits=0, lang=lang)  # fmt: skip

# %%
say(f"## {t('activities.h_by_year', lang)}")
by_year = out.table(activity_summary(acts, lang=lang), "aktiviteter_pr_aar")
wide = by_year.pivot_table(index="aktivitet", columns="year", values="antal", aggfunc="sum",
                           fill_value=0).reset_index()  # fmt: skip
show_table(wide, {c: (str(c) if c != "aktivitet" else t("col.aktivitet", lang)) for c in wide.columns},
           digits=0, lang=lang)  # fmt: skip

# %%
say(f"## {t('activities.h_verdict', lang)}")
if has_judgement:
    from botrygt_eval.activities import evaluate_activities, load_activity_workspace

    ev = evaluate_activities(
        load_activity_workspace(data_dir, quarantine_dir=f"{out_dir}/karantaene"),
        survey_estimates=inp["survey_estimates"],
    )
    d = ev.decisions.assign(aktivitet=lambda x: x["activity_type"].map(labels("activity", lang)),
                            vurdering=lambda x: x["verdict_code"].map(labels("verdict", lang)),
                            ci_low_pct=lambda x: 100 * np.expm1(x["ci_low"]),
                            ci_high_pct=lambda x: 100 * np.expm1(x["ci_high"]))  # fmt: skip
    none = pd.Series(np.nan, index=d.index)
    d["indbrud"] = [interval_text(e, lo, hi, unit=" %", lang=lang) for e, lo, hi in
                    zip(d["effect_pct"], d["ci_low_pct"], d["ci_high_pct"], strict=True)]  # fmt: skip
    d["bekymring"] = [interval_text(e, lo, hi, digits=2, lang=lang, missing="–") for e, lo, hi in
                      zip(d.get("fear_burglary_estimate", none), d.get("fear_burglary_ci_low", none),
                          d.get("fear_burglary_ci_high", none), strict=True)]  # fmt: skip
    d["nabohjaelp"] = [interval_text(e, lo, hi, digits=2, lang=lang, missing="–") for e, lo, hi in
                       zip(d["nabohjaelp_estimate"], d["nabohjaelp_ci_low"], d["nabohjaelp_ci_high"],
                           strict=True)]  # fmt: skip
    out.table(d, "vurdering")
    say(t("activities.verdict_intro", lang))
    say(t("activities.window", lang, w=ev.settings["window_quarters"],
          rest=ev.settings["window_quarters"] - 1))  # fmt: skip
    # the default rule's intervals are simultaneous (Bonferroni over the types)
    show_table(d, cols(lang, "aktivitet", "n_activities", "n_kommuner", "indbrud", "bekymring",
                       "nabohjaelp", vurdering="col.verdict"), lang=lang)  # fmt: skip
    ax = ev.plot().axes[0]
    rev = d.iloc[::-1]  # the chart lists the types bottom-up
    ax.set_yticks(ax.get_yticks(), [f"{a} — {v}" for a, v in zip(rev["aktivitet"], rev["vurdering"],
                                                                    strict=True)])  # fmt: skip
    ax.set_xlabel(t("activities.fig_verdict_x", lang))
    show_figure(out.figure(ax.figure, "vurdering"), lang=lang)
    plt.close(ax.figure)
    reasons = activity_reasons(d, ev.rule, lang)
    say("\n".join(f"- **{a}**: {r}" for a, r in zip(d["aktivitet"], reasons, strict=True)))
else:
    say(t("activities.no_judgement", lang))

# %%
say(f"## {t('activities.h_media', lang)}")
from botrygt_eval.media.pipeline import analyse_media, has_media

if has_media(data_dir) and has_judgement:
    from botrygt_eval.kpi.targets import partnership_kpis
    from botrygt_eval.media.kpi import add_media_kpis
    from botrygt_eval.media.plots import media_series_figure

    media = analyse_media(data_dir, min_n=min_cell, quarantine_dir=f"{out_dir}/karantaene")
    kpis = add_media_kpis(partnership_kpis(load_activity_workspace(data_dir)), media.coded,
                          min_n=min_cell)  # fmt: skip
    m = kpis.assign(**{c: 100 * kpis[c] for c in ("media_constructive_before", "media_constructive_since",
                       "media_constructive_since_ci_low", "media_constructive_since_ci_high")})  # fmt: skip
    out.table(m[["kommune_kode", "kommune", "latest_year", *[c for c in m.columns if c.startswith("media_")]]],
              "medier_pr_partnerskab")  # fmt: skip
    fig = media_series_figure(media.series[media.series["scope"] == "national"], lang=lang)
    show_figure(out.figure(fig, "konstruktiv_presse"), lang=lang)
    say(t("activities.media_intro", lang, min_cell=min_cell))
    show_table(m, cols(lang, "kommune", "media_burglary_articles", "media_bo_trygt_mentions",
                       "media_constructive_before", "media_constructive_before_n",
                       "media_constructive_since", "media_constructive_since_ci_low",
                       "media_constructive_since_ci_high", "media_constructive_since_n"),
               digits=0, lang=lang)  # fmt: skip
    if media.agreement is not None:
        k = media.agreement["constructive"]
        say(t("activities.media_kappa", lang, n=k["n"], kappa=num(k["kappa"], lang, 2),
              lo=num(k["ci_low"], lang, 2), hi=num(k["ci_high"], lang, 2)))  # fmt: skip
else:
    say(t("activities.no_media", lang))

# %%
say(f"## {t('common.methods', lang)}\n{t('activities.methods', lang)}")

# %%
say(f"## {t('common.provenance', lang)}\n{t('common.provenance_note', lang)}")
