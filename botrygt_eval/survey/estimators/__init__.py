"""Design-based estimation: means, proportions, totals, ratios, quantiles, regression."""

from botrygt_eval.survey.estimators._common import SurveyEstimate
from botrygt_eval.survey.estimators.by import svyby
from botrygt_eval.survey.estimators.glm import SurveyGLMResult, svyglm
from botrygt_eval.survey.estimators.means import svymean, svyratio, svytotal
from botrygt_eval.survey.estimators.quantiles import svyquantile
from botrygt_eval.survey.estimators.table import declare_calibration, estimate_table, table_records
from botrygt_eval.survey.replicate import ReplicateDesign, as_replicate, replicate_variance

__all__ = [
    "ReplicateDesign",
    "SurveyEstimate",
    "SurveyGLMResult",
    "as_replicate",
    "declare_calibration",
    "estimate_table",
    "replicate_variance",
    "svyby",
    "svyglm",
    "svymean",
    "svyquantile",
    "svyratio",
    "svytotal",
    "table_records",
]
