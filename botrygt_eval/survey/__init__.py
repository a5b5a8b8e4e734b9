"""Survey design, weighting (nonresponse, calibration, trimming) and design-based variance."""

from botrygt_eval.survey.design import Adjustment, SurveyDesign

__all__ = ["Adjustment", "SurveyDesign"]
