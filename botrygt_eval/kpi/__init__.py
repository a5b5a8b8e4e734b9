"""Each partnership's targets, judged net of what comparable kommuner did."""
