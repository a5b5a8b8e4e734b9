"""Synthetic control and synthetic DiD: fit, unit/time weights (Frank-Wolfe, exact QP), predictor-based SC."""
