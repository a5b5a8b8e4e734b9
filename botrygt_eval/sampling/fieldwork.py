"""Fieldwork monitoring: response rates while the survey is open, and where to remind.

Rates are about the drawn sample: by kommune × sex × age band, and per kommune the
margin of error (MOE) of a proportion p = 0.2 that the respondents so far give,
against the target MOE (``sampling.moe`` and ``sampling.respondents_for_moe``,
the same formulas the allocation used). Kommuner short of the target get a
reminder; within them, the cells answering below the kommune's rate come first.
Cells with fewer than ``min_cell`` sampled people show no counts or rate, as in
the reports' small-cell rule.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from botrygt_eval.errors import ConfigError, InputFileError
from botrygt_eval.privacy.guard import guarded_to_csv, guarded_write_text
from botrygt_eval.reference import kommune_name
from botrygt_eval.results import ResultMixin
from botrygt_eval.sampling.draw import PLANNING_P, moe, respondents_for_moe

CELL = ["kommune_kode", "sex", "age_band"]


@dataclass(frozen=True)
class FieldworkStatus(ResultMixin):
    """Response so far, per cell and per kommune, and the reminder plan."""

    cells: pd.DataFrame
    kommuner: pd.DataFrame
    settings: dict = field(default_factory=dict)

    frame_columns = ("kommune_kode", "n_sampled", "n_responded", "response_rate", "moe_now")

    def _payload(self) -> dict:
        return {"settings": self.settings, "kommuner": self.kommuner, "cells": self.cells}

    def to_frame(self) -> pd.DataFrame:
        """Per kommune: sampled, responded, rate, MOE now, target, shortfall, reminder."""
        return self.kommuner

    @property
    def n_sampled(self) -> int:
        return int(self.kommuner["n_sampled"].sum())

    @property
    def n_responded(self) -> int:
        return int(self.kommuner["n_responded"].sum())

    def summary(self) -> str:
        k = self.kommuner
        short = k.loc[~k["meets_target"]]
        rate = self.n_responded / self.n_sampled if self.n_sampled else float("nan")
        return (
            f"Fieldwork: {self.n_responded:,} of {self.n_sampled:,} sampled have answered "
            f"({rate:.1%}); {len(short)} of {len(k)} kommuner are short of the target MOE "
            f"±{self.settings['target_moe']:.3f} (need {int(short['shortfall'].sum()):,} more "
            f"respondents); {int(self.cells['reminder_priority'].notna().sum()):,} cells to remind"
        )

    def _draw(self, ax=None):
        """MOE per kommune now against its response rate, with the target line."""
        import matplotlib.pyplot as plt

        k = self.kommuner
        if ax is None:
            _, ax = plt.subplots(figsize=(7.5, 4.8))
        ok = k["meets_target"].to_numpy()
        # percentage points; a kommune without respondents yet is drawn at ±50
        moe_now = 100 * np.minimum(k["moe_now"].to_numpy(), 0.5)
        rate = 100 * k["response_rate"].to_numpy()
        ax.scatter(rate[ok], moe_now[ok], s=18, color="#1b7837", label="når målet")
        ax.scatter(rate[~ok], moe_now[~ok], s=18, color="#c51b7d", label="under målet: påmind")
        target = 100 * self.settings["target_moe"]
        ax.axhline(target, color="grey", lw=1, ls="--")
        ax.annotate(
            f"mål ±{_da(target, 1)} point",
            (0, target),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=8,
        )
        worst = k.loc[~k["meets_target"]].nlargest(3, "moe_now")
        for j, row in enumerate(worst.itertuples()):
            ax.annotate(
                kommune_name(row.kommune_kode),
                (100 * row.response_rate, 100 * min(row.moe_now, 0.5)),
                xytext=(6, 6 - 10 * j),
                textcoords="offset points",
                fontsize=7,
            )
        ax.set_xlabel("svarprocent indtil nu (%)")
        ax.set_ylabel(f"fejlmargin (95 %) for en andel på {PLANNING_P:.0%}, procentpoint")
        ax.set_title("Fejlmargin pr. kommune med de svar, der er kommet")
        ax.legend(frameon=False, fontsize=8, loc="upper right")
        ax.figure.tight_layout()
        return ax.figure


def fieldwork_status(
    sample: pd.DataFrame,
    responded_ids: pd.Series,
    *,
    target_moe: float = 0.05,
    min_cell: int = 10,
    confidence: float = 0.95,
) -> FieldworkStatus:
    """Response rates of ``sample`` given the ids that have answered so far."""
    missing = [c for c in [*CELL, "resp_id", "stratum_population"] if c not in sample.columns]
    if missing:
        raise InputFileError(
            f"the sample lacks {', '.join(missing)}; give the sample file written by "
            "'botrygt-eval sample'"
        )
    if min_cell < 1:
        raise ConfigError(f"--min-cell {min_cell} must be at least 1")
    respondents_for_moe(1000, target_moe)  # refuses a target outside (0, 1)
    s = sample.assign(responded=sample["resp_id"].isin(set(responded_ids)).astype(np.int64))
    cells = (
        s.groupby(CELL, observed=True)["responded"]
        .agg(n_sampled="size", n_responded="sum")
        .reset_index()
    )
    cells["response_rate"] = cells["n_responded"] / cells["n_sampled"]
    k = s.groupby("kommune_kode").agg(
        N_h=("stratum_population", "first"),
        n_sampled=("responded", "size"),
        n_responded=("responded", "sum"),
    )
    k["response_rate"] = k["n_responded"] / k["n_sampled"]
    N = k["N_h"].to_numpy(dtype=float)
    k["moe_now"] = moe(k["n_responded"].to_numpy(), N, PLANNING_P, confidence)
    k["target_moe"] = target_moe
    need = np.ceil(respondents_for_moe(N, target_moe, PLANNING_P, confidence) - 1e-9)
    k["respondents_needed"] = np.minimum(need, N).astype(np.int64)
    k["shortfall"] = np.maximum(k["respondents_needed"] - k["n_responded"], 0)
    k["meets_target"] = k["moe_now"] <= target_moe + 1e-12
    open_ = (k["n_sampled"] - k["n_responded"]).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        k["rate_needed_among_rest"] = np.where(
            k["shortfall"] > 0, k["shortfall"].to_numpy() / open_, 0.0
        )  # > 1: the sample cannot reach the target even if everybody answers
    k = k.reset_index()
    kom_rate = cells["kommune_kode"].map(k.set_index("kommune_kode")["response_rate"])
    short = cells["kommune_kode"].map(k.set_index("kommune_kode")["meets_target"]).eq(False)
    small = cells["n_sampled"] < min_cell
    below = cells["response_rate"] < kom_rate
    cells["reminder_priority"] = pd.Series(
        np.where(short & below & ~small, 1, np.where(short, 2, 0)), dtype="Int64"
    ).replace(0, pd.NA)
    cells["suppressed"] = small
    for col in ("n_sampled", "n_responded", "response_rate"):
        cells[col] = cells[col].astype("Float64").mask(small)
    settings = {"target_moe": target_moe, "min_cell": min_cell, "confidence": confidence}
    return FieldworkStatus(cells, k, settings)


def _da(x: float, decimals: int = 0) -> str:
    """Danish number format: 12.345,6."""
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


_PAGE = """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>Dataindsamling: svarprocenter</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}
.banner{{background:#c51b7d;color:white;padding:.5em 1em;font-weight:bold}}</style></head><body>
{banner}<h1>Dataindsamling {year}: svarprocenter og påmindelser</h1>
<p>{summary}</p>
<p><img src="data:image/png;base64,{png}" alt="Fejlmargin pr. kommune mod svarprocent"
 style="max-width:100%"></p>
<h2>Kommuner under målet for fejlmarginen</h2>
<p>Fejlmarginen gælder en andel på {p:.0%} med 95 % sikkerhed og de svar, der er kommet nu.
"Mangler" er antal ekstra svar, der skal til for at nå målet; "andel af resten" er den
svarprocent, der skal til blandt dem, der ikke har svaret endnu (over 100 % kan ikke nås).
Celler med færre end {min_cell} udtrukne vises ikke.</p>
{table}
<p>Påmindelser: {n_rem} celler (kommune × køn × aldersgruppe) i kommuner under målet; de med
lavere svarprocent end kommunen som helhed står først (se fieldwork_celler.csv).</p>
</body></html>
"""


def write_fieldwork(
    status: FieldworkStatus, out_dir: str | Path, *, year: int | None, simulated: bool
) -> dict[str, Path]:
    """``fieldwork_celler.csv``, ``fieldwork_kommuner.csv``, ``fieldwork_moe.png``, ``fieldwork.html``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "cells": out / "fieldwork_celler.csv",
        "kommuner": out / "fieldwork_kommuner.csv",
        "chart": out / "fieldwork_moe.png",
        "html": out / "fieldwork.html",
    }
    guarded_to_csv(status.cells, paths["cells"], index=False, lineterminator="\n")
    guarded_to_csv(status.kommuner, paths["kommuner"], index=False, lineterminator="\n")
    fig = status.plot()
    fig.savefig(paths["chart"], dpi=120, metadata={"Software": None})
    plt.close(fig)
    short = status.kommuner.loc[~status.kommuner["meets_target"]].sort_values(
        "moe_now", ascending=False
    )
    table = pd.DataFrame(
        {
            "Kommune": short["kommune_kode"].map(kommune_name),
            "Kode": short["kommune_kode"],
            "Udtrukket": short["n_sampled"],
            "Svar": short["n_responded"],
            "Svarprocent": (100 * short["response_rate"]).map(lambda v: _da(v, 1)),
            "Fejlmargin nu": (100 * short["moe_now"]).map(lambda v: "±" + _da(v, 1)),
            "Mangler": short["shortfall"],
            "Andel af resten": (100 * short["rate_needed_among_rest"]).map(lambda v: _da(v) + " %"),
        }
    ).to_html(index=False, border=0)
    banner = '<div class="banner">SIMULEREDE DATA: ikke virkelige tal</div>' if simulated else ""
    png = base64.b64encode(paths["chart"].read_bytes()).decode()
    rate = status.n_responded / status.n_sampled if status.n_sampled else float("nan")
    summary = (
        f"{_da(status.n_responded)} af {_da(status.n_sampled)} udtrukne har svaret "
        f"({_da(100 * rate, 1)} %). {len(short)} af {len(status.kommuner)} kommuner har endnu "
        f"ikke svar nok til en fejlmargin på ±{_da(100 * status.settings['target_moe'], 1)} "
        "procentpoint."
    )
    guarded_write_text(
        paths["html"],
        _PAGE.format(
            banner=banner,
            year=html.escape(str(year or "")),
            summary=html.escape(summary),
            png=png,
            p=PLANNING_P,
            min_cell=status.settings["min_cell"],
            table=table,
            n_rem=int(status.cells["reminder_priority"].notna().sum()),
        ),
    )
    return paths
