"""Charts shared by the demo and the reports (matplotlib Figures, labels per language)."""
