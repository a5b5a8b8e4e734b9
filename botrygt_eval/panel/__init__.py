"""The kommune × period burglary panel that every DiD estimator reads, and its treatment cohorts."""
