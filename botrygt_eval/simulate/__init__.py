"""A synthetic Denmark with known true effects, written in the workspace's input formats.

``simulate_workspace(out, seed)`` writes StatBank exports, registers, survey samples,
responses, margins and a sampling frame (docs/DATA_FORMATS.md) plus ``truth.json``;
the same seed gives byte-identical files. ``SimulationConfig`` holds every parameter.
"""

from botrygt_eval.simulate.config import SimulationConfig
from botrygt_eval.simulate.workspace import simulate_workspace

__all__ = ["SimulationConfig", "simulate_workspace"]
