"""Constructive media coverage of burglary (issue #11): coder, agreement, series, figures."""

from botrygt_eval.media.coder import code_articles, load_dictionary, rule_counts, stem_texts

__all__ = ["code_articles", "load_dictionary", "rule_counts", "stem_texts"]
