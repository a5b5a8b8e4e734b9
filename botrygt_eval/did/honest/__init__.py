"""HonestDiD: sensitivity of event-study effects to violations of parallel trends.

Rambachan & Roth (2023), "A More Credible Approach to Parallel Trends", as the R package
HonestDiD (``createSensitivityResults``, ``createSensitivityResults_relativeMagnitudes``,
``constructOriginalCS``). :func:`honest_did` takes any event study (beta, Sigma), a TWFE
:class:`~botrygt_eval.did.twfe.EventStudyResult` or a Callaway-Sant'Anna dynamic
:class:`~botrygt_eval.did.aggregate.AggregateResult`, and returns a :class:`HonestResult`.
"""

from botrygt_eval.did.honest.api import event_study_inputs, honest_did, original_ci
from botrygt_eval.did.honest.result import HonestResult

__all__ = ["HonestResult", "event_study_inputs", "honest_did", "original_ci"]
