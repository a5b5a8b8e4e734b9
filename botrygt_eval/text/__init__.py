"""What people read: the report text catalogue (Danish and English) and number formats."""
