"""R's default random numbers (Mersenne-Twister, normals by inversion) in numpy.

HonestDiD simulates two quantities with ``set.seed(0)``: the least-favourable critical
value of the ARP hybrid test (``mvtnorm::rmvnorm``, 1,000 draws) and the folded-normal
quantile of the FLCI (``rnorm``, 10^6 draws). Reproducing its confidence sets to the
grid point therefore needs R's exact draws: ``set.seed`` scrambles the seed with the
LCG 69069 s + 1 into the 624-word Mersenne-Twister state (R's RNG.c), and ``norm_rand``
(INVERSION) turns two uniforms into one normal, ``qnorm((floor(2^27 u1) + u2) / 2^27)``.
Each call starts from the seed again, as HonestDiD's functions do.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_MASK = 0xFFFFFFFF
_I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1)
_BIG = 134217728.0  # 2^27


def _mt_state(seed: int) -> np.ndarray:
    """The 624 Mersenne-Twister words after R's ``set.seed(seed)``."""
    s = seed & _MASK
    for _ in range(50):  # initial scrambling
        s = (69069 * s + 1) & _MASK
    words = np.empty(625, dtype=np.uint64)
    for j in range(625):
        s = (69069 * s + 1) & _MASK
        words[j] = s
    return words[1:].astype(np.uint32)  # word 0 is mti, set to 624 by FixupSeeds


def runif(n: int, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); runif(n)``."""
    bg = np.random.MT19937(0)
    bg.state = {"bit_generator": "MT19937", "state": {"key": _mt_state(seed), "pos": 624}}
    u = bg.random_raw(n).astype(np.float64) * 2.3283064365386963e-10
    u[u <= 0.0] = 0.5 * _I2_32M1
    u[(1.0 - u) <= 0.0] = 1.0 - 0.5 * _I2_32M1
    return u


def rnorm(n: int, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` (R's default INVERSION normals)."""
    u = runif(2 * n, seed).reshape(n, 2)
    x = (np.floor(_BIG * u[:, 0]) + u[:, 1]) / _BIG
    return special.ndtri(x)


def rmvnorm(n: int, sigma: np.ndarray, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); mvtnorm::rmvnorm(n, sigma = sigma)`` (method "eigen")."""
    sigma = np.asarray(sigma, float)
    p = sigma.shape[0]
    lam, vec = np.linalg.eigh(sigma)
    root = (vec * np.sqrt(np.maximum(lam, 0.0))) @ vec.T  # symmetric square root
    z = rnorm(n * p, seed).reshape(n, p)  # matrix(rnorm(n * p), nrow = n, byrow = TRUE)
    return z @ root


def quantile7(x: np.ndarray, p: float) -> float:
    """R's ``quantile(x, p)`` (type 7), with R's interpolation formula."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    n = len(x)
    index = 1 + max(n - 1, 0) * p
    lo, hi = int(np.floor(index)), int(np.ceil(index))
    part = np.partition(x, sorted({lo - 1, hi - 1}))
    qs = part[lo - 1]
    if index > lo and part[hi - 1] != qs:
        h = index - lo
        qs = (1 - h) * qs + h * part[hi - 1]
    return float(qs)
