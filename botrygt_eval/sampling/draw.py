"""Stratified sampling of the citizen survey: allocation, selection, design weights.

Allocation across strata (municipalities) by one of five rules, integer rounding that
keeps the total (largest remainder) and never exceeds N_h, then stratified simple
random sampling without replacement: every frame row gets a uniform random key and
the n_h smallest keys of each stratum are drawn (one argsort, no loop over strata).

A frame of real people carries CPR numbers (column ``cpr``) instead of ``resp_id``:
the drawn persons then get an HMAC-SHA256 pseudonym under a secret key as ``resp_id``
(:mod:`botrygt_eval.privacy.pseudonym`), and the CPR numbers stay only in the
distribution list (:attr:`SampleResult.distribution`), never in the sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from botrygt_eval.errors import ConfigError, InputFileError, PersonalDataError, check_option
from botrygt_eval.options import DEFAULT_SEED
from botrygt_eval.privacy.cpr import normalise_cpr
from botrygt_eval.privacy.pseudonym import MAKE_KEY, pseudonymise_cpr
from botrygt_eval.results import ResultMixin

AllocationMethod = Literal["proportional", "equal", "power", "neyman", "moe"]
ALLOCATIONS: tuple[str, ...] = ("proportional", "equal", "power", "neyman", "moe")
FRAME_COLUMNS = ("resp_id", "kommune_kode", "sex", "age", "age_band")
#: the column of a real frame holding CPR numbers (DDMMYY-XXXX or DDMMYYXXXX)
CPR_COLUMN = "cpr"
#: the proportion the survey is planned around (share worried about burglary)
PLANNING_P = 0.2


def moe(n_resp, N, p: float = PLANNING_P, confidence: float = 0.95) -> np.ndarray:
    """Margin of error of a proportion p from n_resp respondents out of N, with fpc.

    z * sqrt(p (1 - p) / m * (1 - m / N)); infinite when m = 0.
    """
    m = np.asarray(n_resp, dtype=float)
    N = np.asarray(N, dtype=float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = z * np.sqrt(p * (1 - p) / m * np.clip(1 - m / N, 0, None))
    return np.where(m > 0, out, np.inf)


def respondents_for_moe(
    N, target_moe: float, p: float = PLANNING_P, confidence: float = 0.95
) -> np.ndarray:
    """Respondents needed per stratum so that the MOE of p is at most ``target_moe`` (fpc)."""
    if not 0 < target_moe < 1:
        raise ConfigError(
            f"target_moe={target_moe} must be a proportion between 0 and 1 (0.05 = ±5 points)"
        )
    z = norm.ppf(0.5 + confidence / 2)
    n0 = z**2 * p * (1 - p) / target_moe**2
    N = np.asarray(N, dtype=float)
    return n0 / (1 + n0 / N)


def largest_remainder(x: np.ndarray, total: int, cap: np.ndarray) -> np.ndarray:
    """Round a non-negative allocation to integers summing to ``total``, each <= cap."""
    x = np.asarray(x, dtype=float)
    base = np.minimum(np.floor(x + 1e-9), cap).astype(np.int64)
    short = int(total - base.sum())
    if short < 0:
        raise ConfigError(f"cannot round the allocation down to n_total={total}")
    if short:
        rem = np.where(base < cap, x - base, -np.inf)
        order = np.argsort(-rem, kind="stable")[:short]
        if not np.isfinite(rem[order]).all():
            raise ConfigError(f"n_total={total} is more than the frame can give")
        base[order] += 1
    return base


def _bounded_shares(shares: np.ndarray, total: float, lo: np.ndarray, hi: np.ndarray):
    """Continuous allocation proportional to ``shares`` within [lo, hi], summing to total."""
    fixed = np.zeros(len(shares), dtype=bool)
    x = np.zeros(len(shares))
    for _ in range(len(shares) + 1):
        free = ~fixed
        left = total - x[fixed].sum()
        s = shares[free].sum()
        x[free] = left * shares[free] / s if s > 0 else left / free.sum()
        over = free & (x > hi)
        under = free & (x < lo)
        if not (over.any() or under.any()):
            return x
        x[over], x[under] = hi[over], lo[under]
        fixed |= over | under
    return x


def allocate(
    population: pd.Series,
    *,
    method: AllocationMethod = "proportional",
    n_total: int | None = None,
    power: float = 0.5,
    sd: pd.Series | None = None,
    p: float = PLANNING_P,
    target_moe: float | None = None,
    expected_response: float = 1.0,
    min_per_stratum: int = 0,
    confidence: float = 0.95,
) -> pd.Series:
    """Invited sample size n_h per stratum (index as ``population``, the N_h).

    ``proportional`` n_h ∝ N_h; ``equal``; ``power`` n_h ∝ N_h^q (q = ``power``);
    ``neyman`` n_h ∝ N_h S_h (S_h from ``sd``, else sqrt(p (1 - p))); ``moe``: the
    smallest n_h whose expected respondents (n_h × ``expected_response``) give a
    margin of error of at most ``target_moe`` for a proportion p, with fpc (no n_total).
    ``min_per_stratum`` raises small strata; every n_h is capped at N_h.
    """
    check_option("method", method, ALLOCATIONS)
    N = population.to_numpy(dtype=float)
    if (N <= 0).any() or not np.isfinite(N).all():
        raise ConfigError("every stratum population N_h must be a positive number")
    if not 0 < expected_response <= 1:
        raise ConfigError(f"expected_response={expected_response} must be in (0, 1]")
    lo = np.minimum(float(min_per_stratum), N)
    if method == "moe":
        if target_moe is None:
            raise ConfigError("allocation 'moe' needs target_moe (e.g. 0.05 for ±5 points)")
        if n_total is not None:
            raise ConfigError(
                "allocation 'moe' sets n per stratum from target_moe; leave n_total out or "
                "use another allocation"
            )
        need = respondents_for_moe(N, target_moe, p, confidence) / expected_response
        n = np.minimum(np.maximum(np.ceil(need - 1e-9), lo), N).astype(np.int64)
        return pd.Series(n, index=population.index, name="n_h")
    if n_total is None:
        raise ConfigError(f"allocation {method!r} needs n_total (the number to invite)")
    n_total = int(n_total)
    if n_total > N.sum():
        raise ConfigError(f"n_total={n_total:,} is larger than the frame ({int(N.sum()):,})")
    if lo.sum() > n_total:
        raise ConfigError(
            f"min_per_stratum={min_per_stratum} in {len(N)} strata needs {int(lo.sum()):,} "
            f"persons, more than n_total={n_total:,}; lower one of them"
        )
    if method == "proportional":
        shares = N
    elif method == "equal":
        shares = np.ones_like(N)
    elif method == "power":
        shares = N**power
    else:
        s = (
            np.full_like(N, np.sqrt(p * (1 - p)))
            if sd is None
            else sd.reindex(population.index).to_numpy(dtype=float)
        )
        if not np.isfinite(s).all() or (s < 0).any():
            raise ConfigError("neyman allocation needs a finite sd >= 0 for every stratum")
        shares = N * s
    x = _bounded_shares(shares, n_total, lo, N)
    n = largest_remainder(x, n_total, N.astype(np.int64))
    return pd.Series(n, index=population.index, name="n_h")


def select_stratified(strata: np.ndarray, n_h: pd.Series, seed: int) -> np.ndarray:
    """Boolean mask of a stratified SRS without replacement: n_h rows from each stratum.

    Every row gets a U(0, 1) key; the n_h rows with the smallest keys in each stratum
    are drawn. To avoid sorting millions of keys, only candidate rows with a key below a
    generous per-stratum threshold are sorted (by stratum code + key); a stratum with
    too few candidates gets threshold 1. The result is the same as a full sort.
    """
    codes, uniques = pd.factorize(pd.Series(strata), sort=True)
    want = pd.Series(n_h).reindex(uniques).fillna(0).to_numpy(dtype=np.int64)
    sizes = np.bincount(codes, minlength=len(uniques))
    if (want > sizes).any():
        raise ConfigError("a stratum is asked for more persons than it has in the frame")
    rng = np.random.default_rng(seed)
    u = rng.random(len(codes))
    frac = want / np.maximum(sizes, 1)
    thresh = np.minimum(
        1.0,
        frac + 6 * np.sqrt(frac * (1 - frac) / np.maximum(sizes, 1)) + 20 / np.maximum(sizes, 1),
    )
    while True:
        cand = np.flatnonzero(u < thresh[codes])
        got = np.bincount(codes[cand], minlength=len(uniques))
        short = got < want
        if not short.any():
            break
        thresh[short] = 1.0 + 1e-9
    c = codes[cand]
    order = np.argsort(c + u[cand])  # ties have probability ~0; the sort is deterministic
    starts = np.concatenate([[0], np.cumsum(got)[:-1]])
    sorted_codes = c[order]
    pos = np.arange(len(order)) - starts[sorted_codes]
    chosen = np.zeros(len(codes), dtype=bool)
    chosen[cand[order[pos < want[sorted_codes]]]] = True
    return chosen


@dataclass(frozen=True)
class SampleResult(ResultMixin):
    """A drawn sample (DATA_FORMATS sample file, without ``responded``) and its allocation."""

    sample: pd.DataFrame
    allocation: pd.DataFrame
    settings: dict = field(default_factory=dict)
    #: CPR number, pseudonym and year of each drawn person (frames with CPR only): the
    #: e-Boks distribution list, the only table holding CPR numbers
    distribution: pd.DataFrame | None = None

    frame_columns = ("N_h", "n_invited", "expected_respondents", "expected_moe")

    def to_frame(self) -> pd.DataFrame:
        """The allocation report, one row per stratum."""
        return self.allocation

    def _payload(self) -> dict:
        """Settings and allocation; the drawn persons stay in :attr:`sample`."""
        return {"settings": self.settings, "allocation": self.allocation}

    def _draw(self, ax=None):
        """Invited and expected respondents per stratum."""
        import matplotlib.pyplot as plt

        a = self.allocation
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        x = np.arange(len(a))
        ax.bar(x, a["n_invited"], color="0.7", label="inviterede")
        ax.bar(x, a["expected_respondents"], color="C0", label="forventede svar")
        ax.set_xlabel("stratum")
        ax.set_ylabel("personer")
        ax.legend(frameon=False)
        return ax

    def summary(self) -> str:
        a = self.allocation
        return (
            f"Stratified sample ({self.settings.get('method')}): {int(a['n_invited'].sum()):,} "
            f"invited from {int(a['N_h'].sum()):,} in {len(a)} strata; expected respondents "
            f"{a['expected_respondents'].sum():,.0f}; expected MOE at p={PLANNING_P} from "
            f"{a['expected_moe'].min():.3f} to {a['expected_moe'].max():.3f}"
        )


def allocation_report(
    population: pd.Series,
    n_h: pd.Series,
    expected_response: float,
    strata: str = "kommune_kode",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per stratum: N_h, invited n_h, expected respondents and expected MOE at p = 0.2."""
    exp_resp = n_h.to_numpy(dtype=float) * expected_response
    return pd.DataFrame(
        {
            strata: population.index,
            "N_h": population.to_numpy(dtype=np.int64),
            "n_invited": n_h.to_numpy(dtype=np.int64),
            "incl_prob": n_h.to_numpy(dtype=float) / population.to_numpy(dtype=float),
            "expected_respondents": exp_resp,
            "expected_moe": moe(exp_resp, population.to_numpy(), PLANNING_P, confidence),
        }
    )


def draw_sample(
    frame: pd.DataFrame,
    *,
    year: int,
    method: AllocationMethod = "proportional",
    n_total: int | None = None,
    power: float = 0.5,
    sd: pd.Series | None = None,
    target_moe: float | None = None,
    expected_response: float = 1.0,
    min_per_stratum: int = 0,
    seed: int = DEFAULT_SEED,
    strata: str = "kommune_kode",
    pseudonym_key: bytes | None = None,
) -> SampleResult:
    """Allocate, draw a stratified SRS from ``frame`` and attach design weights.

    Output columns (DATA_FORMATS sample file without ``responded``): ``resp_id, year,
    kommune_kode, sex, age, age_band, incl_prob, design_weight, stratum_population``.
    A frame with a ``cpr`` column needs ``pseudonym_key``: ``resp_id`` becomes the
    keyed pseudonym of the CPR number and ``distribution`` holds ``cpr, resp_id, year``.
    """
    has_cpr = CPR_COLUMN in frame.columns
    if has_cpr:
        frame = _with_pseudonym_slot(frame, pseudonym_key)
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if strata not in frame.columns:
        missing.append(strata)
    if missing:
        raise InputFileError(
            f"the frame lacks the column(s) {missing}; a frame has {list(FRAME_COLUMNS)}"
        )
    s = frame[strata].to_numpy()
    if pd.isna(frame[strata]).any():
        raise InputFileError(
            f"{int(pd.isna(frame[strata]).sum()):,} frame rows have no {strata}; fix the frame"
        )
    codes, uniques = pd.factorize(frame[strata], sort=True)
    population = pd.Series(np.bincount(codes), index=pd.Index(uniques, name=strata), name="N_h")
    n_h = allocate(
        population,
        method=method,
        n_total=n_total,
        power=power,
        sd=sd,
        target_moe=target_moe,
        expected_response=expected_response,
        min_per_stratum=min_per_stratum,
    )
    chosen = select_stratified(s, n_h, seed)
    out = frame.loc[chosen, list(dict.fromkeys([*FRAME_COLUMNS, strata]))].reset_index(drop=True)
    distribution = None
    if has_cpr:
        cpr = frame.loc[chosen, CPR_COLUMN].reset_index(drop=True)
        out["resp_id"] = pseudonymise_cpr(cpr, pseudonym_key)
        distribution = pd.DataFrame({"cpr": cpr.to_numpy(dtype=object),
                                     "resp_id": out["resp_id"], "year": int(year)})  # fmt: skip
    N_row = population.reindex(out[strata]).to_numpy(dtype=float)
    n_row = n_h.reindex(out[strata]).to_numpy(dtype=float)
    out.insert(1, "year", int(year))
    out["incl_prob"] = n_row / N_row
    out["design_weight"] = N_row / n_row
    out["stratum_population"] = N_row.astype(np.int64)
    report = allocation_report(population, n_h, expected_response, strata)
    settings = {
        "method": method,
        "n_total": n_total,
        "power": power,
        "target_moe": target_moe,
        "expected_response": expected_response,
        "min_per_stratum": min_per_stratum,
        "seed": seed,
        "year": year,
        "pseudonymised": has_cpr,
    }
    return SampleResult(out, report, settings, distribution)


def _with_pseudonym_slot(frame: pd.DataFrame, key: bytes | None) -> pd.DataFrame:
    """The frame with its CPR numbers normalised (10 digits) and ``resp_id`` left to fill.

    Refuses a frame whose CPR numbers are missing, malformed or duplicated (naming the
    rows, never the values) and a missing key.
    """

    if key is None:
        raise PersonalDataError(
            "the frame holds CPR numbers (column 'cpr'), so the sample needs a secret pseudonym "
            f"key (--key-file or $BOTRYGT_PSEUDONYM_KEY); {MAKE_KEY}"
        )
    cpr = normalise_cpr(frame[CPR_COLUMN])
    bad = np.flatnonzero(cpr.isna().to_numpy())
    if len(bad):
        rows = ", ".join(str(r + 1) for r in bad[:5])
        raise InputFileError(
            f"{len(bad):,} frame row(s) have no valid CPR number in column 'cpr' (data row(s) "
            f"{rows}); a CPR number is DDMMYY-XXXX or DDMMYYXXXX: correct or remove those rows"
        )
    dup = np.flatnonzero(cpr.duplicated(keep=False).to_numpy())
    if len(dup):
        rows = ", ".join(str(r + 1) for r in dup[:5])
        raise InputFileError(
            f"{len(dup):,} frame rows share a CPR number with another row (data row(s) {rows}); "
            "a person must be in the frame once: remove the duplicates"
        )
    return frame.drop(columns=["resp_id"], errors="ignore").assign(
        **{CPR_COLUMN: cpr.to_numpy(dtype=object), "resp_id": ""}
    )
