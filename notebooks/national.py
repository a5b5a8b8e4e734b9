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
out_dir = "out/reports/national"
year = 2025
kommune = None
seed = 2018
lang = "da"
min_cell = 10
simulated = True

# %%
# ruff: noqa: E402
import matplotlib.pyplot as plt
import pandas as pd

from botrygt_eval.did.compare import burglary_sensitivity
from botrygt_eval.did.diagnostics import (
    bacon_decomposition,
    randomization_inference,
)
from botrygt_eval.did.headline import headline
from botrygt_eval.did.inference import one_blas_thread
from botrygt_eval.did.twfe import event_study
from botrygt_eval.panel.balance import balanced
from botrygt_eval.reference import kommune_name
from botrygt_eval.reports.charts import plot_burglary_lines, plot_survey_trends
from botrygt_eval.reports.inputs import read_inputs
from botrygt_eval.reports.output import say, show_figure, show_table, start
from botrygt_eval.reports.sentences import survey_gap_lines
from botrygt_eval.reports.tables import (
    burglary_trends,
    count_targets,
    effects_table,
    survey_table,
    targets_table,
)
from botrygt_eval.text.catalogue import cols, labels, num, t


def p(x, digits=1):
    """A number in the report's language (decimal comma in Danish)."""
    return num(x, lang, digits)


say(f"# {t('title.national', lang)}")
out = start(out_dir, simulated, lang)
inp = read_inputs(cache_dir)
panel_q, panel_y, est = inp["panel_quarter"], inp["panel_year"], inp["survey_estimates"]
partnerships = inp["partnerships"]
changes = inp["group_changes"]
if len(changes):  # quarantined register lines that move a kommune out of the partnerships
    say(t("common.group_changes", lang, n=len(changes), items="; ".join(
        t("common.group_change", lang, kommune=r.kommune, line=r.line, file=r.file, reason=r.reason)
        for r in changes.itertuples())))  # fmt: skip
if "partnership_effects" in inp:
    effects = inp["partnership_effects"].drop(
        columns=["data_source", "true_effect"], errors="ignore"
    )
else:
    from botrygt_eval.did.compare import burglary_effects, survey_effects

    effects = pd.concat([burglary_effects(panel_q)[0], survey_effects(est, partnerships)])
keys = dict(unit="kommune_kode", time="period", cohort="cohort", outcome="log_rate")
es = event_study(panel_q, leads=8, lags=12, **keys)

# %%
say(f"## {t('national.h_results', lang)}")
# HonestDiD relative magnitudes (Rambachan & Roth) for the average post-start effect of the
# TWFE event study; the breakdown value refined between grid values (docs/HONESTDID.md)
sens = burglary_sensitivity(es, mbar=(0, 0.05, 0.1, 0.2, 0.5, 1, 1.5, 2), grid_points=100)
with one_blas_thread():
    breakdown = sens.refine_breakdown(0.01)
head = headline(effects, es, breakdown)
x = p(head.breakdown, 2)
why = {
    "disagree": t("national.why_disagree", lang),
    "pretrend": t(f"national.why_{head.pretrend_direction}", lang, p=p(head.pretrend_p_value, 3))
    if head.pretrend_fails
    else "",
    "fragile": t("national.why_fragile", lang, x=x)
    if head.breakdown > 0
    else t("national.why_fragile_zero", lang),
}
if head.verdict == "robust":
    say(t("national.robust_first", lang, x=x))
else:
    say(t("national.uncertain_first", lang, why=" ".join(why[r] for r in head.reasons)))
by_method = effects_table(effects[effects["outcome"].isin(["log_rate", "burglaries"])], lang)
say(f"**{t('national.h_by_method', lang)}**")
show_table(out.table(by_method, "hovedresultat_metoder"),
           cols(lang, "metode", "estimate_pct", "ci_low_pct", "ci_high_pct", "n_units"),
           lang=lang)  # fmt: skip
fear = effects[effects["outcome"].eq("fear_burglary")]
nat = survey_table(est, year, None, min_cell, lang).set_index("variable")
lines = [
    t("national.n_partnerships", lang, n=len(partnerships)),
    t("national.agree" if head.agree else "national.disagree", lang),
    t("national.pretrend_ok", lang, p=p(head.pretrend_p_value, 3)) if not head.pretrend_fails
    else why["pretrend"],
    t("national.breakdown", lang, x=x) if head.breakdown > 0 else why["fragile"],
]  # fmt: skip
if len(fear):
    f = fear.iloc[0]
    lines.append(t("national.fear_effect", lang, est=p(100 * f["estimate"]),
                   lo=p(100 * f["ci_low"]), hi=p(100 * f["ci_high"]), n=int(f["n_units"])))  # fmt: skip
if "fear_burglary" in nat.index:
    r = nat.loc["fear_burglary"]
    lines.append(t("national.fear_level", lang, year=year, est=p(r["estimate"]),
                   lo=p(r["ci_low"]), hi=p(r["ci_high"]), n=int(r["n"])))  # fmt: skip
lines.append(t("national.ci_zero", lang))
say("\n".join(f"- {line}" for line in lines))

# %%
say(f"## {t('national.h_burglary', lang)}")
trends = out.table(burglary_trends(panel_y, lang), "indbrud_udvikling")
fig = plot_burglary_lines(trends, "gruppe", t("national.fig_burglary", lang), lang=lang)
show_figure(out.figure(fig, "indbrud_udvikling"), lang=lang)
plt.close(fig)

# %%
from botrygt_eval.reports.local import show_tile_map

_ = show_tile_map(out, panel_y, partnerships, year, lang=lang)

# %%
say(f"## {t('national.h_effects', lang)}\n{t('national.effects_intro', lang)}")
show_table(out.table(effects_table(effects, lang), "effekter"),
           cols(lang, "maal", "metode", "estimate_pct", "ci_low_pct", "ci_high_pct", "enhed",
                "n_units", "n_obs"), lang=lang)  # fmt: skip
fig = es.plot(title=t("national.fig_event_study", lang, estimator=labels("estimator", lang)["TWFE"]),
              percent=True, xlabel=t("fig.es_xlabel_quarters", lang), lang=lang)  # fmt: skip
show_figure(out.figure(fig, "event_study"), lang=lang)
plt.close(fig)
_ = out.table(es.to_frame(), "event_study")

# %%
say(f"## {t('national.h_survey', lang)}")
for line in survey_gap_lines(inp.get("survey_gaps"), None, lang):
    say(line)
fig = plot_survey_trends(est, None, t("national.fig_survey", lang), min_cell=min_cell, lang=lang)
show_figure(out.figure(fig, "borgerundersoegelse_udvikling"), lang=lang)
plt.close(fig)
show_table(out.table(survey_table(est, year, None, min_cell, lang), f"borgerundersoegelse_{year}"),
           cols(lang, "maal", "enhed", "estimate", "ci_low", "ci_high", "n"), lang=lang)  # fmt: skip

# %%
say(f"## {t('national.h_robustness', lang)}\n{t('national.robustness_intro', lang)}")
pre = es.pretrend
panel_b, dropped = balanced(panel_q)
bacon = bacon_decomposition(panel_b, **keys)
ri = randomization_inference(panel_b, n_perm=499, seed=seed, **keys)
say("\n".join([
    "- " + t("national.pretrend", lang, df=int(pre["df"]), stat=p(pre["stat"], 2),
             p=p(pre["p_value"], 3)),
    "- " + t("national.permutation", lang, seed=seed, p=p(ri.to_frame()["p_value"].iloc[0], 3)),
    "- " + t("national.balanced", lang, n=panel_b["kommune_kode"].nunique(),
             dropped=", ".join(kommune_name(k) for k in dropped) or t("common.none", lang)),
]))  # fmt: skip
bt = out.table(bacon.by_type().assign(sammenligning=lambda d: d["type"].map(labels("bacon", lang))),
               "bacon")  # fmt: skip
show_table(bt, cols(lang, "sammenligning", "weight", "estimate"), digits=3, lang=lang)
fig = sens.plot(lang=lang)
show_figure(out.figure(fig, "foelsomhed"), lang=lang)
plt.close(fig)
_ = out.table(sens.to_frame(), "foelsomhed")

# %%
say(f"## {t('national.h_targets', lang)}")
targets = out.table(targets_table(inp["partnership_kpis"], lang), "maal")
say(t("national.targets_net", lang, **count_targets(targets)))
show_table(targets, cols(lang, "kommune", "status", "baseline_year", "judged_year", "net_change",
                         "burglary_target_pct", "burglary_target_status_text", "fear_share",
                         "fear_target_pct", "fear_target_status_text", "nabohjaelp_members",
                         "nabohjaelp_target", "nabohjaelp_target_status_text"), lang=lang)  # fmt: skip

# %%
say(f"## {t('common.methods', lang)}\n{t('national.methods', lang)}")

# %%
say(f"## {t('common.provenance', lang)}\n{t('common.provenance_note', lang)}")
