"""Every result object keeps one protocol (botrygt_eval/results.py): ``summary()`` is text,
``to_frame()`` a tidy frame with the columns the class declares, ``to_dict()`` survives
``json.dumps(..., allow_nan=False)``, ``_repr_html_`` is HTML and ``plot()`` a Figure.

The result classes are found by walking the package, so a new one must be added to
``BUILDERS`` (and every class named ``*Result`` must inherit the mixin)."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import botrygt_eval
from botrygt_eval.results import ESTIMATE_COLUMNS, ResultMixin, json_safe

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tests.did.did_panel_helpers import staggered_panel  # noqa: E402

REF = Path(__file__).parent / "reference"


def _package_classes() -> list[type]:
    """Every class defined in a module of botrygt_eval."""
    found = []
    for mod in pkgutil.walk_packages(botrygt_eval.__path__, "botrygt_eval."):
        if mod.name.endswith("__main__"):  # runs the CLI when imported
            continue
        module = importlib.import_module(mod.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found.append(cls)
    return found


CLASSES = _package_classes()
_ALL = {c for c in CLASSES if issubclass(c, ResultMixin) and c is not ResultMixin}
#: the concrete results; a base shared by several (CoefficientResult) is checked through them
RESULTS = sorted(
    (c for c in _ALL if not any(o is not c and issubclass(o, c) for o in _ALL)),
    key=lambda c: c.__name__,
)


# ------------------------------------------------------------------- one instance of each
@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    p = staggered_panel(n_units=30, n_periods=8, cohorts=(0, 4, 6), seed=3)
    return p.assign(count=np.round(np.exp(1 + 0.2 * p["y"])).astype(int))


PANEL = dict(unit="unit", time="time")


@pytest.fixture(scope="module")
def did_results(panel):
    from botrygt_eval.did import aggregate, att_gt
    from botrygt_eval.did.diagnostics import (
        bacon_decomposition,
        randomization_inference,
        relative_magnitude_bounds,
    )
    from botrygt_eval.did.headline import headline
    from botrygt_eval.did.poisson import ppml
    from botrygt_eval.did.twfe import event_study, twfe

    cs = att_gt(panel, cohort="cohort", outcome="y", **PANEL)
    es = event_study(panel, cohort="cohort", outcome="y", **PANEL)
    effects = pd.DataFrame({"outcome": "log_rate", "estimator": ["TWFE", "CS"],
                            "estimate": [1.0, 1.1], "ci_low": [0.5, 0.6],
                            "ci_high": [1.5, 1.6], "n_units": 30})  # fmt: skip
    return {
        "ATTgtResult": cs,
        "AggregateResult": aggregate(cs, "dynamic"),
        "BootstrapResult": aggregate(
            cs, "simple", se="bootstrap", replications=99, seed=1
        ).bootstrap,
        "TWFEResult": twfe(panel, treat="treat", outcome="y", **PANEL),
        "PoissonResult": ppml(panel, treat="treat", outcome="count", se="cr1", **PANEL),
        "EventStudyResult": es,
        "BaconResult": bacon_decomposition(panel, cohort="cohort", outcome="y", **PANEL),
        "RandomizationResult": randomization_inference(
            panel, cohort="cohort", outcome="y", n_perm=19, seed=1, **PANEL
        ),
        "SensitivityResult": relative_magnitude_bounds(es),
        "Headline": headline(effects, es, breakdown=1.5),
    }


def _synth(panel):
    from botrygt_eval.did.synth.fit import synth_did, synth_each

    one = panel[(panel["cohort"] == 0) | (panel["unit"] == panel.loc[panel["cohort"] == 4,
                                                                     "unit"].iloc[0])]  # fmt: skip
    return {
        "SynthResult": synth_did(one, outcome="y", treat="treat", method="did", **PANEL),
        "SynthBatch": synth_each(
            panel[panel["cohort"] != 6], outcome="y", treat="treat", method="did", **PANEL
        ),  # fmt: skip
    }


def _predictor_synth(panel):
    from botrygt_eval.did.synth.predictor import synth_predictor

    treated = panel.loc[panel["cohort"] == 4, "unit"].iloc[0]
    data = panel[(panel["cohort"] == 0) | (panel["unit"] == treated)]
    times = tuple(range(1, 4))
    return synth_predictor(data, outcome="y", treated=treated, treatment_time=4,
                           predictors=["y"], time_predictors_prior=times,
                           time_optimize_ssr=times, **PANEL)  # fmt: skip


def _honest():
    from botrygt_eval.did.honest import honest_did

    beta = np.array([0.01, -0.02, 0.0, 0.3, 0.35])
    return honest_did(beta, np.eye(5) * 0.01, 3, 2, restriction="relative_magnitudes",
                      m_grid=[0.5, 1.0])  # fmt: skip


def _survey():
    from botrygt_eval.survey.design import SurveyDesign
    from botrygt_eval.survey.estimators.glm import svyglm
    from botrygt_eval.survey.estimators.means import svymean
    from botrygt_eval.survey.weighting import weight_responses
    from tests.survey.test_weighting_design import respondents_and_margins

    rng = np.random.default_rng(1)
    d = pd.DataFrame({"x": rng.normal(size=200), "w": rng.uniform(1, 3, 200),
                      "g": rng.choice(["a", "b"], 200)})  # fmt: skip
    d["y"] = 1 + d["x"] + rng.normal(size=200)
    des = SurveyDesign.from_frame(d, weights="w")
    r, m = respondents_and_margins()
    return {
        "SurveyEstimate": svymean(des, ["y"], by="g"),
        "SurveyGLMResult": svyglm(des, "y ~ x"),
        "WeightingResult": weight_responses(r, m, design_weight="design_weight"),
    }


def _sampling():
    from botrygt_eval.sampling.draw import draw_sample
    from botrygt_eval.sampling.fieldwork import fieldwork_status
    from tests.sampling.test_fieldwork import _sample
    from tests.sampling.test_sampling_allocation import small_frame

    s = _sample()
    return {
        "SampleResult": draw_sample(small_frame(n=2000), year=2026, n_total=200, seed=1),
        "FieldworkStatus": fieldwork_status(s, s["resp_id"][::3]),
    }


def _io(tmp_path):
    from botrygt_eval.io.merge import merge_responses
    from botrygt_eval.io.platforms import ImportResult
    from botrygt_eval.io.quarantine import LoadResult

    loaded = LoadResult(
        data=pd.DataFrame({"resp_id": ["a", "b"], "q1": [1, 2]}),
        quarantined=pd.DataFrame({"source_row": [4], "reason": ["q1: not a number"]}),
        source="responses.csv", quarantine_path=tmp_path / "q.csv", lines=3,
    )  # fmt: skip
    sample = pd.DataFrame({"resp_id": ["a", "b", "c"], "kommune_kode": [101, 101, 147]})
    return {
        "LoadResult": loaded,
        "ImportResult": ImportResult(loaded, "SurveyXact", ("started",), (), pd.DataFrame(), 4),
        "MergeResult": merge_responses(sample, loaded.data),
    }


def _programme(tmp_path):
    from botrygt_eval.activities import evaluate_activities
    from botrygt_eval.media.agreement import kappa_from_table
    from botrygt_eval.media.pipeline import analyse_media
    from botrygt_eval.monitoring import local_monitoring
    from botrygt_eval.reports.render import ReportResult
    from botrygt_eval.simulate.activities import simulated_activity_workspace
    from botrygt_eval.simulate.geo import simulate_geo
    from botrygt_eval.simulate.media import simulate_media
    from botrygt_eval.simulate.writers import write_csv

    corpus = simulate_media(2018)
    write_csv(tmp_path / "media/articles.csv", corpus.articles)
    write_csv(tmp_path / "media/hand_coded.csv", corpus.hand_coded)
    labels = np.array([f"{y}K{q}" for y in (2024, 2025) for q in range(1, 5)])
    codes, households = np.array([101, 259, 265, 461, 621, 751]), np.full(6, 30_000)
    simulate_geo(tmp_path / "geo", 1, codes, households, np.full((6, len(labels)), 30), labels,
                 [259])  # fmt: skip
    html = tmp_path / "r" / "national.html"
    return {
        "ActivityEvaluation": evaluate_activities(simulated_activity_workspace(seed=11)),
        "MediaResult": analyse_media(tmp_path),
        "KappaResult": kappa_from_table([[20, 3], [4, 13]]),
        "LocalMonitoring": local_monitoring(tmp_path / "geo", 259, n_permutations=9),
        "ReportResult": ReportResult(
            "national", html.parent, html, html.with_suffix(".ipynb"), skipped=False, seconds=1.5
        ),  # fmt: skip
    }


def _learning_review():
    from botrygt_eval.learning_review.consistency import grim_report
    from botrygt_eval.learning_review.figures import recompute
    from botrygt_eval.learning_review.spec import load_spec
    from botrygt_eval.simulate.learning_review import simulate_projektleder_responses

    spec = load_spec(published=REF / "laeringsopsamling" / "published_figures.csv")
    return {
        "ReviewFigures": recompute(simulate_projektleder_responses(2025, spec=spec), spec),
        "GrimReport": grim_report(spec),
    }


def _instrument():
    from botrygt_eval.instrument import diff_instruments

    return {"InstrumentDiff": diff_instruments(2024, 2025)}


@pytest.fixture(scope="module")
def instances(did_results, panel, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("results")
    return {
        **did_results, **_synth(panel), "PredictorSynthResult": _predictor_synth(panel),
        "HonestResult": _honest(), **_survey(), **_sampling(), **_io(tmp), **_programme(tmp),
        **_learning_review(), **_instrument(),
    }  # fmt: skip


# ------------------------------------------------------------------- the protocol
def test_every_result_class_uses_the_protocol():
    named = [c for c in CLASSES if c.__name__.endswith("Result")]
    assert named, "no *Result class found: the package walk is broken"
    missing = [f"{c.__module__}.{c.__name__}" for c in named if not issubclass(c, ResultMixin)]
    assert not missing, f"result classes without ResultMixin: {missing}"
    for name in ("LocalMonitoring", "ActivityEvaluation", "SurveyEstimate", "MediaResult"):
        assert name in {c.__name__ for c in RESULTS}


def test_every_result_class_has_an_instance_here(instances):
    assert {c.__name__ for c in RESULTS} == set(instances)


@pytest.mark.parametrize("cls", RESULTS, ids=lambda c: c.__name__)
def test_protocol(cls, instances):
    res = instances[cls.__name__]
    assert type(res) is cls
    text = res.summary()
    assert isinstance(text, str) and text.strip()
    assert str(res) == text
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert set(cls.frame_columns) <= set(frame.columns), cls.frame_columns
    d = res.to_dict()
    assert isinstance(d, dict)
    json.dumps(d, allow_nan=False)  # NaN, numpy, Timestamps, Paths all made plain
    page = res._repr_html_()
    assert isinstance(page, str) and "<table" in page and "<caption>" in page
    fig = res.plot()
    assert isinstance(fig, Figure) and fig.axes
    plt.close(fig)


def test_estimates_carry_se_interval_and_n():
    """A class that overrides the tidy columns says so; the default is the estimate set."""
    assert ResultMixin.frame_columns == ESTIMATE_COLUMNS
    default = [c.__name__ for c in RESULTS if c.frame_columns == ESTIMATE_COLUMNS]
    for name in ("TWFEResult", "AggregateResult", "SynthResult", "SurveyEstimate"):
        assert name in default


def test_plot_into_a_given_axes_returns_its_figure(instances):
    fig, ax = plt.subplots()
    assert instances["EventStudyResult"].plot(ax=ax) is fig
    plt.close(fig)


def test_json_safe_makes_every_value_plain():
    obj = {
        np.int64(3): np.float32(1.5), "nan": float("nan"), "inf": -np.inf,
        "ts": pd.Timestamp("2024-01-02"), "nat": pd.NaT, "na": pd.NA, "path": Path("a/b"),
        "arr": np.array([1.0, np.nan]), "frame": pd.DataFrame({"a": [1, None]}),
        "tuple": (np.bool_(True), None),
    }  # fmt: skip
    got = json_safe(obj)
    assert got == {
        3: 1.5, "nan": None, "inf": None, "ts": "2024-01-02 00:00:00", "nat": None, "na": None,
        "path": "a/b", "arr": [1.0, None], "frame": [{"a": 1.0}, {"a": None}],
        "tuple": [True, None],
    }  # fmt: skip
    json.dumps(got, allow_nan=False)


def test_field_names_are_df_and_p_value(instances):
    """One spelling: ``df`` and ``p_value``, never ``dof`` or ``pvalue`` (issue 19)."""
    for res in instances.values():
        names = set(getattr(res, "__dataclass_fields__", {}))
        frame = set(res.to_frame().columns)
        for bad in ("dof", "pvalue", "coef"):
            assert bad not in names and bad not in frame, (type(res).__name__, bad)
    assert instances["TWFEResult"].to_dict()["estimate"] == instances["TWFEResult"].estimate
