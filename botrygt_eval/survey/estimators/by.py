"""Domain estimates in one call (R's ``svyby``): means, totals or quantiles by domain."""

from __future__ import annotations

from typing import Literal

from botrygt_eval.errors import EstimationError, check_option
from botrygt_eval.survey.design import SurveyDesign
from botrygt_eval.survey.estimators._common import SurveyEstimate, as_list
from botrygt_eval.survey.estimators.means import svymean, svytotal
from botrygt_eval.survey.estimators.quantiles import svyquantile
from botrygt_eval.survey.replicate import ReplicateDesign


def svyby(
    design: SurveyDesign | ReplicateDesign,
    variables: str | list[str],
    by: str | list[str],
    statistic: Literal["mean", "total", "quantile"] = "mean",
    **kwargs,
) -> SurveyEstimate:
    """Domain estimates (R's ``svyby``): the statistic for every level of ``by``."""
    check_option("statistic", statistic, ("mean", "total", "quantile"))
    if not as_list(by):
        raise EstimationError("svyby needs domain column(s) in by=, e.g. by='kommune_kode'")
    if statistic == "mean":
        return svymean(design, variables, by, **kwargs)
    if statistic == "total":
        return svytotal(design, variables, by, **kwargs)
    return svyquantile(design, variables, by=by, **kwargs)
