"""The result of :func:`~botrygt_eval.did.honest.honest_did`: robust intervals per M."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from botrygt_eval.results import ResultMixin
from botrygt_eval.text.catalogue import check_lang

LABELS = {
    "original": {"da": "Oprindeligt interval", "en": "Original"},
    "robust": {"da": "Robust interval", "en": "Robust CI"},
    "x_rm": {"da": "M̄ (efter-brud i forhold til største før-brud)",
             "en": "M̄ (post violation relative to the largest pre violation)"},
    "x_sd": {"da": "M (største ændring i trendens hældning)",
             "en": "M (largest change in the slope of the trend)"},
    "y": {"da": "Effekt ({level} % konfidensinterval)", "en": "Effect ({level} % confidence interval)"},
}  # fmt: skip


@dataclass(frozen=True)
class HonestResult(ResultMixin):
    """Robust confidence sets for ``theta = l' tau_post`` over a grid of M (or Mbar).

    ``table``: one row per M with ``lb, ub, method, delta, m`` (M for the smoothness
    family, Mbar for relative magnitudes). ``original``: the interval under exact
    parallel trends (``constructOriginalCS``). ``breakdown``: the largest M of the grid
    up to which every robust interval excludes 0 (NaN if even M = first grid value
    includes 0; the grid's last value if none does).
    """

    table: pd.DataFrame
    original: tuple[float, float]
    estimate: float
    se: float
    restriction: str
    delta: str
    method: str
    l_vec: np.ndarray
    num_pre: int
    num_post: int
    alpha: float
    breakdown: float
    settings: dict = field(default_factory=dict)
    #: The function that made this result, to recompute it at other M (as a statsmodels
    #: result keeps its model); :meth:`refine_breakdown` calls it.
    solver: Callable | None = field(default=None, repr=False, compare=False)

    frame_columns = ("m", "lb", "ub", "estimate", "se", "n")

    def refine_breakdown(self, tol: float | None = None) -> float:
        """The breakdown value to ``tol`` by bisection between the grid's breakdown value
        (interval excludes 0) and the next grid value (includes 0); each step recomputes
        one robust interval with the same settings. Without a crossing on the grid the
        grid value is returned as is."""
        m = np.sort(self.table["m"].to_numpy(float))
        b = self.breakdown
        if np.isnan(b):
            if m[0] <= 0:
                return float("nan")
            lo, hi = 0.0, float(m[0])
        elif b >= m[-1]:
            return float(b)
        else:
            lo, hi = float(b), float(m[np.searchsorted(m, b, side="right")])
        tol = (hi - lo) / 64 if tol is None else tol
        inp = self.settings["inputs"]
        kw = {k: v for k, v in self.settings.items() if k != "inputs"}

        def excludes_zero(mm: float) -> bool:
            r = self.solver(*inp, restriction=self.restriction, m_grid=[mm], l_vec=self.l_vec,
                           method=self.method, alpha=self.alpha, **kw).table.iloc[0]  # fmt: skip
            return bool(r["lb"] > 0 or r["ub"] < 0)

        if np.isnan(b) and not excludes_zero(lo):
            return float("nan")
        while hi - lo > tol:
            mid = (lo + hi) / 2
            if excludes_zero(mid):
                lo = mid
            else:
                hi = mid
        return float(lo)

    @property
    def m_name(self) -> str:
        return "Mbar" if self.restriction == "relative_magnitudes" else "M"

    def to_frame(self) -> pd.DataFrame:
        """``m, lb, ub, method, delta`` per grid value, the original interval first
        (``m`` NaN, method "Original"), plus ``estimate, se, n`` (n = post periods)."""
        orig = pd.DataFrame([{"m": np.nan, "lb": self.original[0], "ub": self.original[1],
                              "method": "Original", "delta": None}])  # fmt: skip
        out = pd.concat([orig, self.table], ignore_index=True)
        return out.assign(estimate=self.estimate, se=self.se, n=self.num_post)

    def _payload(self) -> dict:
        return {
            "restriction": self.restriction,
            "delta": self.delta,
            "method": self.method,
            "l_vec": [float(x) for x in self.l_vec],
            "alpha": self.alpha,
            "estimate": self.estimate,
            "se": self.se,
            "original": {"lb": self.original[0], "ub": self.original[1]},
            "robust": [
                {"m": float(r.m), "lb": float(r.lb), "ub": float(r.ub)}
                for r in self.table.itertuples()
            ],
            "breakdown": self.breakdown,
            "m_name": self.m_name,
            "num_pre": self.num_pre,
            "num_post": self.num_post,
        }

    def _target(self) -> str:
        lv = self.l_vec
        if len(lv) > 1 and np.allclose(lv, lv[0]):
            return f"the mean over the {len(lv)} post periods"
        return str([round(float(x), 4) for x in lv])

    def summary(self) -> str:
        lines = [
            f"HonestDiD sensitivity ({self.delta}, {self.method}; Rambachan & Roth 2023)",
            f"  target l'tau_post with l = {self._target()}: estimate "
            f"{self.estimate:.5g} (se {self.se:.3g}), {100 * (1 - self.alpha):.0f} % original CI "
            f"[{self.original[0]:.5g}, {self.original[1]:.5g}]",
            self.table.rename(columns={"m": self.m_name}).to_string(
                index=False, float_format=lambda x: f"{x:.5g}"
            ),
            f"  breakdown {self.m_name}: {self.breakdown:.4g} (largest {self.m_name} on the grid "
            "up to which the robust CI excludes 0)",
        ]
        return "\n".join(lines)

    def _draw(self, ax=None, lang: str = "da"):
        """Sensitivity plot: the original and robust intervals against M (Figure)."""
        import matplotlib.pyplot as plt

        check_lang(lang)
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        else:
            fig = ax.figure
        t = self.table
        m = t["m"].to_numpy(float)
        gap = float(np.min(np.diff(np.sort(m)))) if len(m) > 1 else 1.0
        x0 = m.min() - gap
        ax.errorbar([x0], [np.mean(self.original)], yerr=[[np.diff(self.original)[0] / 2]],
                    fmt="none", color="C3", capsize=4, label=LABELS["original"][lang])  # fmt: skip
        mid = (t["lb"] + t["ub"]) / 2
        ax.errorbar(m, mid, yerr=[mid - t["lb"], t["ub"] - mid], fmt="none", color="C0",
                    capsize=4, label=LABELS["robust"][lang])  # fmt: skip
        ax.axhline(0, color="black", lw=0.8)
        key = "x_rm" if self.restriction == "relative_magnitudes" else "x_sd"
        ax.set_xlabel(LABELS[key][lang])
        ax.set_ylabel(LABELS["y"][lang].format(level=f"{100 * (1 - self.alpha):g}"))
        ax.legend(frameon=False, fontsize=8, loc="best")
        return fig
