"""Activities: the effect of each activity type and whether to repeat, change or drop it.

Public: :func:`evaluate_activities` -> :class:`ActivityEvaluation`, :class:`DecisionRule`,
:func:`load_activity_workspace`. Design and rule in docs/ACTIVITIES.md.
"""

from botrygt_eval.activities.data import load_activity_workspace
from botrygt_eval.activities.evaluate import ActivityEvaluation, evaluate_activities
from botrygt_eval.activities.rule import VERDICT_DA, DecisionRule

__all__ = [
    "ActivityEvaluation",
    "DecisionRule",
    "VERDICT_DA",
    "evaluate_activities",
    "load_activity_workspace",
]
