"""Agreement between the coder and a hand-coded sample: Cohen's kappa with a confidence interval.

``kappa = (p_o - p_e) / (1 - p_e)`` from the confusion table of the two codings; its standard
error is the large-sample (non-null) formula of Fleiss, Cohen & Everitt (1969,
Psychological Bulletin 72:323-327), and the interval is ``kappa +- z * se`` clipped to
[-1, 1]. With a hand-coded sample of a few hundred articles the interval is wide: report it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from botrygt_eval.errors import ConfigError
from botrygt_eval.results import ResultMixin


def confusion_table(rater_a, rater_b, labels=None) -> pd.DataFrame:
    """Counts of (rater_a = row, rater_b = column); ``labels`` fixes the categories' order."""
    a = pd.Series(np.asarray(rater_a), name="a")
    b = pd.Series(np.asarray(rater_b), name="b")
    if len(a) != len(b):
        raise ConfigError(f"the two codings differ in length ({len(a)} and {len(b)})")
    if labels is None:
        labels = sorted(set(a.tolist()) | set(b.tolist()))
    ia = pd.Categorical(a, categories=labels).codes
    ib = pd.Categorical(b, categories=labels).codes
    if (ia < 0).any() or (ib < 0).any():
        raise ConfigError(f"a code outside the labels {labels!r} (or a missing code)")
    k = len(labels)
    counts = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k)
    return pd.DataFrame(
        counts, index=pd.Index(labels, name="a"), columns=pd.Index(labels, name="b")
    )


@dataclass(frozen=True)
class KappaResult(ResultMixin):
    """Cohen's kappa of two codings with its standard error and interval."""

    kappa: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    observed_agreement: float
    expected_agreement: float
    level: float

    def to_frame(self) -> pd.DataFrame:
        """One row: ``estimate`` (kappa), ``se, ci_low, ci_high, n`` and the agreements."""
        d = asdict(self)
        return pd.DataFrame([{"estimate": d.pop("kappa"), **d}])

    def _payload(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"Cohen's kappa {self.kappa:.3f} (SE {self.se:.3f}, {self.level:.0%} CI "
            f"{self.ci_low:.3f} to {self.ci_high:.3f}); n = {self.n}, observed agreement "
            f"{self.observed_agreement:.3f}, expected {self.expected_agreement:.3f}"
        )


def kappa_from_table(table, level: float = 0.95) -> KappaResult:
    """Cohen's kappa from a square table of counts (rows: one coder, columns: the other)."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1] or (t < 0).any():
        raise ConfigError("the agreement table must be square with non-negative counts")
    n = t.sum()
    if n == 0:
        raise ConfigError("the agreement table is empty: no articles coded by both")
    p = t / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po, pe = np.trace(p), float(rows @ cols)
    if pe >= 1:  # both coders used one and the same category throughout
        nan = float("nan")
        return KappaResult(nan, nan, nan, nan, int(n), float(po), pe, level)
    kappa = (po - pe) / (1 - pe)
    diag = np.diag(p)
    term1 = np.sum(diag * (1 - (rows + cols) * (1 - kappa)) ** 2)
    off = ~np.eye(len(p), dtype=bool)
    term2 = (1 - kappa) ** 2 * np.sum(p[off] * np.add.outer(cols, rows)[off] ** 2)
    term3 = (kappa - pe * (1 - kappa)) ** 2
    var = max(term1 + term2 - term3, 0.0) / (n * (1 - pe) ** 2)
    se = float(np.sqrt(var))
    z = stats.norm.ppf(0.5 + level / 2)
    return KappaResult(
        float(kappa), se, float(max(kappa - z * se, -1.0)), float(min(kappa + z * se, 1.0)),
        int(n), float(po), float(pe), level,
    )  # fmt: skip


def cohens_kappa(rater_a, rater_b, level: float = 0.95) -> KappaResult:
    """Cohen's kappa of two codings of the same items (any hashable codes, no missing)."""
    return kappa_from_table(confusion_table(rater_a, rater_b).to_numpy(), level)


def agreement_report(coded: pd.DataFrame, level: float = 0.95) -> dict:
    """Kappa and confusion tables of coder vs hand coding, for burglary and for constructive.

    ``coded`` is a hand-coded sample run through :func:`~botrygt_eval.media.code_articles`:
    it carries ``hand_burglary``/``is_burglary`` and ``hand_constructive``/``is_constructive``.
    Constructive is compared on all articles (a non-burglary article is never constructive).
    """
    out = {"n_articles": int(len(coded)), "level": level}
    for name, hand, auto in (
        ("burglary", "hand_burglary", "is_burglary"),
        ("constructive", "hand_constructive", "is_constructive"),
    ):
        h = coded[hand].astype(bool).to_numpy()
        c = coded[auto].astype(bool).to_numpy()
        table = confusion_table(h, c, labels=[False, True])
        out[name] = {
            **cohens_kappa(h, c, level).to_dict(),
            "table": {
                "hand_no_coder_no": int(table.iat[0, 0]),
                "hand_no_coder_yes": int(table.iat[0, 1]),
                "hand_yes_coder_no": int(table.iat[1, 0]),
                "hand_yes_coder_yes": int(table.iat[1, 1]),
            },
        }
    return out
