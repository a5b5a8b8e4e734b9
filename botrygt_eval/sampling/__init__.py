"""Drawing the citizen sample (allocation, selection, design weights) and following its fieldwork."""
