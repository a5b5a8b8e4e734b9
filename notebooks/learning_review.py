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
out_dir = "out/reports/learning_review"
year = 2025
kommune = None
seed = 2018
lang = "da"
min_cell = 10
simulated = True

# %% [markdown]
# # Bo trygt: læringsreviewets figurer genskabt fra data

# %%
# ruff: noqa: E402
import warnings
from pathlib import Path

from botrygt_eval.learning_review.pipeline import reproduce_learning_review
from botrygt_eval.reports_content import (
    learning_review_file,
    provenance_table,
    say,
    show_figure,
    show_table,
    start,
)

warnings.filterwarnings("ignore")
out = start(out_dir, simulated)
responses = learning_review_file(data_dir, year)
folder = Path(out_dir) / "figurer" / "laeringsreview"
rev = reproduce_learning_review(responses, folder, lang=lang)
fig_table = rev.figures.figures_csv()

# %% [markdown]
# ## Kort fortalt

# %%
m = fig_table["matches"] if "matches" in fig_table else None
lines = [f"- Projektlederundersøgelsen ({responses.name}): **{rev.n_respondents} svar** "
         f"({rev.n_quarantined} rækker sat i karantæne).",
         f"- {fig_table['figure'].nunique()} figurer med {len(fig_table)} procenttal er genberegnet fra svarene."]  # fmt: skip
if m is not None and m.notna().any():
    lines.append(f"- {int(m.fillna(False).astype(bool).sum())} af {int(m.notna().sum())} publicerede "
                 "procenttal genfindes præcist.")  # fmt: skip
say("\n".join(lines))

# %% [markdown]
# ## Figurerne

# %%
for png in sorted(folder.glob("*.png")):
    say(f"### {png.stem.capitalize()}")
    show_figure(png)

# %% [markdown]
# ## Publicerede og genberegnede procenttal

# %%
out.table(fig_table, "figurer")
show_table(fig_table, {c: c for c in fig_table.columns if c not in ("item",)})

# %% [markdown]
# ## Metode
# Hvert procenttal er genberegnet fra projektledernes svar med samme base som i
# læringsreviewet (alle, der har svaret på spørgsmålet) og afrundet som i den publicerede rapport.

# %% [markdown]
# ## Dokumentation (proveniens)

# %%
params, files = provenance_table(f"{out_dir}/provenance.json")
show_table(params, {"felt": "Felt", "vaerdi": "Værdi"})
show_table(files, {"fil": "Inputfil", "sha256": "SHA-256", "bytes": "Bytes"})
