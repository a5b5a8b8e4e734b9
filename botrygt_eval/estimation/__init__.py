"""Design-based estimation: means, proportions, totals, ratios, quantiles, regression."""

from botrygt_eval.estimation._common import SurveyEstimate
from botrygt_eval.estimation.glm import SurveyGLMResult, svyglm
from botrygt_eval.estimation.means import svyby, svymean, svyratio, svytotal
from botrygt_eval.estimation.quantiles import svyquantile
from botrygt_eval.estimation.replicate import ReplicateDesign, as_replicate, replicate_variance
from botrygt_eval.estimation.table import declare_calibration, estimate_table, table_records

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
