"""A transparent Danish coder: is an article about burglary, and is it constructive?

Constructive (seed 000, Princip 3): the burglary is not reported alone but followed by one of
the five pieces of advice or another call to action. The phrases live in
``phrases_da.yaml`` (versioned, each rule with its source); text is normalised, tokenised
and Snowball-stemmed, and every rule is one regular expression run over the whole corpus
(pandas string methods: one pass per rule, no loop over articles). ``matched_rules`` says
which rules fired, so every code can be checked by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import snowballstemmer
import yaml

from botrygt_eval.errors import ConfigError, InputFileError

SENTENCE = "|"
_TOKEN = re.compile(r"[0-9a-zæøåäöüéè]+|[.!?;:]+")
_WORD = r"[^ |]"
CATEGORIES = ("burglary", "exclusions", "advice", "call_to_action", "mentions")
TEXT_COLUMNS = ("headline", "text")


@cache
def _stemmer():
    return snowballstemmer.stemmer("danish")


def normalise(text: pd.Series) -> pd.Series:
    """Lower case, NFC, hyphens and slashes as spaces (``Bo trygt-korpset`` -> three words)."""
    text = text.fillna("").astype(str).str.normalize("NFC")
    return text.str.lower().str.replace(r"[-/–—]", " ", regex=True)


def stem_texts(text: pd.Series) -> pd.Series:
    """Each text as `` stem stem | stem `` (single spaces, ``|`` at sentence ends).

    Each distinct word is stemmed once (the corpus vocabulary), not once per occurrence.
    """
    tokens = normalise(text).str.findall(_TOKEN)
    flat = tokens.explode()
    flat = flat[flat.notna()]
    codes, vocab = pd.factorize(flat)
    is_punct = np.array([not w[0].isalnum() for w in vocab], dtype=bool)
    stems = np.where(is_punct, SENTENCE, np.array(_stemmer().stemWords(list(vocab)), dtype=object))
    stemmed = pd.Series(stems[codes] if len(codes) else [], index=flat.index, dtype=object)
    joined = stemmed.groupby(level=0).agg(" ".join).reindex(text.index, fill_value="")
    return " " + joined + " "


def _stem_word(word: str) -> str:
    return _stemmer().stemWord(normalise(pd.Series([word])).iloc[0])


def phrase_regex(phrase: str) -> str:
    """The regular expression of one dictionary phrase over stemmed text (syntax in the YAML)."""
    parts = []
    for token in normalise(pd.Series([phrase])).iloc[0].split():
        if token == "...":
            parts.append(f"(?:{_WORD}+ ){{0,3}}")
            continue
        core = token.strip("*")
        if not core or not _TOKEN.fullmatch(core):
            raise ConfigError(f"phrase {phrase!r}: {token!r} is not a word (letters/digits, '*')")
        stem = re.escape(_stem_word(core))
        pre = f"{_WORD}*" if token.startswith("*") else ""
        post = f"{_WORD}*" if token.endswith("*") else ""
        parts.append(f"{pre}{stem}{post} ")
    body = "".join(parts).rstrip()
    if body.endswith("{0,3}"):
        raise ConfigError(f"phrase {phrase!r} may not end with '...'")
    return f"(?<= ){body}(?= )"


@dataclass(frozen=True)
class Rule:
    """One dictionary rule: an id, its category, its compiled pattern and its source."""

    id: str
    category: str
    pattern: str
    negated_pattern: str | None
    source: str
    theme: str = ""


@dataclass(frozen=True)
class Dictionary:
    """The parsed phrase dictionary (``phrases_da.yaml`` or a user's own file)."""

    version: str
    rules: tuple[Rule, ...]
    path: str

    def of(self, category: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.category == category)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(r.id, r.category, r.theme, r.source) for r in self.rules],
            columns=["rule", "category", "theme", "source"],
        )


def load_dictionary(path: str | Path | None = None) -> Dictionary:
    """Parse and compile a phrase dictionary; the packaged Danish one by default."""
    if path is None:
        source = resources.files("botrygt_eval.media").joinpath("phrases_da.yaml")
        text, where = source.read_text(encoding="utf-8"), "botrygt_eval/media/phrases_da.yaml"
    else:
        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"{path}: phrase dictionary not found; give a YAML file")
        text, where = path.read_text(encoding="utf-8"), str(path)
    spec = yaml.safe_load(text)
    return _compile(spec, where)


def _compile(spec: dict, where: str) -> Dictionary:
    if not isinstance(spec, dict) or "burglary" not in spec:
        raise ConfigError(f"{where}: not a phrase dictionary (needs a 'burglary' list)")
    negators = "|".join(re.escape(_stem_word(w)) for w in spec.get("negators", []))
    exceptions = [_stem_word(w) for w in spec.get("negation_exceptions", [])]
    guard = "".join(f"(?<!{re.escape(e)} )" for e in exceptions)
    rules, seen = [], set()
    for category in CATEGORIES:
        for item in spec.get(category, []) or []:
            rid = item.get("id")
            if not rid or rid in seen or not item.get("phrases"):
                raise ConfigError(
                    f"{where}: every rule needs a unique 'id' and a list of 'phrases' "
                    f"(problem at {rid!r} in {category})"
                )
            if not item.get("source"):
                raise ConfigError(f"{where}: rule {rid!r} has no 'source'; say where it comes from")
            seen.add(rid)
            pattern = "|".join(f"(?:{phrase_regex(p)})" for p in item["phrases"])
            negated = None
            if item.get("negatable") and negators:
                negated = (
                    f"{guard}(?<= )(?:{negators})(?: {_WORD}+){{0,2}} (?:"
                    + "|".join(phrase_regex(p).removeprefix("(?<= )") for p in item["phrases"])
                    + ")"
                )
            rules.append(
                Rule(rid, category, pattern, negated, str(item["source"]), item.get("theme", ""))
            )
    return Dictionary(str(spec.get("version", "?")), tuple(rules), where)


def _fires(stemmed: pd.Series, rule: Rule) -> np.ndarray:
    """Whether the rule matches at least once outside a negation (counts only where needed)."""
    fired = stemmed.str.contains(rule.pattern, regex=True).to_numpy(dtype=bool)
    if rule.negated_pattern is not None and fired.any():
        sub = stemmed[fired]
        negated = sub.str.contains(rule.negated_pattern, regex=True).to_numpy(dtype=bool)
        if negated.any():
            both = sub[negated]
            left = both.str.count(rule.pattern) - both.str.count(rule.negated_pattern)
            idx = np.flatnonzero(fired)[negated]
            fired[idx] = left.to_numpy() > 0
    return fired


def _article_text(df: pd.DataFrame) -> pd.Series:
    missing = [c for c in TEXT_COLUMNS if c not in df.columns]
    if missing:
        raise InputFileError(
            f"articles need the column(s) {', '.join(missing)} to be coded "
            "(load them with botrygt_eval.media.load_articles; docs/DATA_FORMATS.md)"
        )
    return df["headline"].fillna("").astype(str) + ". " + df["text"].fillna("").astype(str)


def code_articles(df: pd.DataFrame, dictionary: Dictionary | None = None) -> pd.DataFrame:
    """``df`` plus ``is_burglary``, ``has_advice``, ``has_call_to_action``,
    ``is_constructive``, ``mentions_bo_trygt`` and ``matched_rules`` (the rule ids that
    fired, ``;``-separated).

    ``is_constructive`` is only true for burglary articles. Exclusions (``dataindbrud``,
    ``bilindbrud``) are blanked out before the burglary rules run.
    """
    d = dictionary or load_dictionary()
    stemmed = stem_texts(_article_text(df).reset_index(drop=True))
    matched = np.full(len(stemmed), "", dtype=object)

    def note(fired: np.ndarray, rid: str) -> None:
        nonlocal matched
        matched = np.where(fired, np.where(matched == "", rid, matched + ";" + rid), matched)

    for_burglary = stemmed
    for rule in d.of("exclusions"):
        fired = _fires(stemmed, rule)
        note(fired, rule.id)
        for_burglary = for_burglary.str.replace(rule.pattern, "⊘", regex=True)
    flags = {}
    for category in ("burglary", "advice", "call_to_action", "mentions"):
        text = for_burglary if category == "burglary" else stemmed
        any_fired = np.zeros(len(stemmed), dtype=bool)
        for rule in d.of(category):
            fired = _fires(text, rule)
            note(fired, rule.id)
            any_fired |= fired
        flags[category] = any_fired
    out = df.copy()
    out["is_burglary"] = flags["burglary"]
    out["has_advice"] = flags["advice"]
    out["has_call_to_action"] = flags["call_to_action"]
    out["is_constructive"] = flags["burglary"] & (flags["advice"] | flags["call_to_action"])
    out["mentions_bo_trygt"] = flags["mentions"]
    out["matched_rules"] = matched
    return out


def rule_counts(coded: pd.DataFrame, dictionary: Dictionary | None = None) -> pd.DataFrame:
    """How often each rule fired (all articles, burglary articles): for checking the dictionary."""
    d = dictionary or load_dictionary()
    rules = coded["matched_rules"].str.split(";").explode()
    rules = rules[rules.fillna("") != ""]
    burglary = coded["is_burglary"].reindex(rules.index).to_numpy(dtype=bool)
    table = d.to_frame()
    table["n_articles"] = table["rule"].map(rules.value_counts()).fillna(0).astype(int)
    table["n_burglary_articles"] = (
        table["rule"].map(rules[burglary].value_counts()).fillna(0).astype(int)
    )
    return table
