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
out_dir = "out/reports/learning_review"
year = 2025
kommune = None
seed = 2018
lang = "da"
min_cell = 10
simulated = True

# %%
# ruff: noqa: E402
from pathlib import Path

from botrygt_eval.learning_review.pipeline import reproduce_learning_review
from botrygt_eval.learning_review.spec import load_instrument_pl
from botrygt_eval.reports.inputs import learning_review_file
from botrygt_eval.reports.output import say, show_figure, show_table, start
from botrygt_eval.text.catalogue import cols, num, t

say(f"# {t('review.title', lang)}")
out = start(out_dir, simulated, lang)
responses = learning_review_file(data_dir, year)
folder = Path(out_dir) / "figurer" / "laeringsreview"
rev = reproduce_learning_review(responses, folder, lang=lang)
fig_table = rev.figures.figures_csv()

# %%
say(f"## {t('common.in_short', lang)}")
m = fig_table["matches"] if "matches" in fig_table else None
lines = [t("review.respondents", lang, file=responses.name, n=rev.n_respondents,
           q=rev.n_quarantined),
         t("review.recomputed", lang, figures=fig_table["figure"].nunique(), n=len(fig_table))]  # fmt: skip
if m is not None and m.notna().any():
    lines.append(t("review.matches", lang, hits=int(m.fillna(False).astype(bool).sum()),
                   n=int(m.notna().sum())))  # fmt: skip
say("\n".join(f"- {line}" for line in lines))

# %%
say(f"## {t('review.h_figures', lang)}")
for png in sorted(folder.glob("*.png")):  # each chart carries its own title
    show_figure(png, lang=lang)

# %%
say(f"## {t('review.h_table', lang)}")
out.table(fig_table, "figurer")
shown = fig_table.assign(matches=fig_table["matches"].map({True: t("common.yes", lang),
                                                           False: t("common.no", lang)}))  # fmt: skip
if lang != "da":  # the item's own text in the report's language (the answer categories
    # keep the published review's Danish wording)
    inst = load_instrument_pl(year)
    shown["item"] = [inst.item(c).text.get(lang, i) for c, i in
                     zip(rev.figures.table["column"], shown["item"], strict=True)]  # fmt: skip
show_table(shown, cols(lang, *[c for c in fig_table.columns if c != "figure"],
                       item="col.review_item", category="col.review_category",
                       matches="col.review_matches"), lang=lang)  # fmt: skip
n_resp = int(fig_table["n"].mode().iloc[0])  # the base most figures have
say(t("review.grim", lang, n=n_resp, step=num(100 / n_resp, lang, 1),
      two=num(200 / n_resp, lang, 1)))  # fmt: skip

# %%
say(f"## {t('common.methods', lang)}\n{t('review.methods', lang)}")

# %%
say(f"## {t('common.provenance', lang)}\n{t('common.provenance_note', lang)}")
