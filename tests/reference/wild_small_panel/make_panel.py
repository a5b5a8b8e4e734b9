"""Generate panel.csv: a small panel for the wild-bootstrap tests (tests/did/test_did_wild.py).

8 units x 10 periods; units 0-2 treated from period 5; unit-specific error scale
(heteroskedastic clusters), an extra regressor, positive analytic weights and a
Poisson count with a household exposure. Run: python make_panel.py (numpy >= 1.17).
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261205)
G, T = 8, 10
unit = np.repeat(np.arange(G), T)
time = np.tile(np.arange(1, T + 1), G)
treated = ((unit < 3) & (time >= 5)).astype(int)
cohort = np.where(unit < 3, 5, 0)
x2 = rng.normal(size=G * T)
y = (
    0.3 * treated
    + 0.5 * x2
    + rng.normal(size=G)[unit]
    + rng.normal(size=T)[time - 1]
    + rng.normal(size=G * T) * (0.5 + unit / 4)
)
households = rng.integers(200, 2000, size=G)[unit]
rate = np.exp(-3 + 0.2 * rng.normal(size=G)[unit] + 0.1 * np.sin(time) - 0.2 * treated)
count = rng.poisson(households * rate * rng.gamma(2.0, 0.5, size=G * T))
weight = rng.uniform(0.5, 2.0, size=G)[unit]
pd.DataFrame(
    {
        "unit": unit,
        "time": time,
        "treated": treated,
        "cohort": cohort,
        "x2": x2,
        "y": y.round(8),
        "households": households,
        "count": count,
        "weight": weight.round(6),
    }
).to_csv("panel.csv", index=False)
