"""From a workspace's ``media/`` folder to the coded series, rule counts and kappa.

:func:`analyse_media` loads ``media/articles.csv`` (and a hand-coded sample when there is
one), codes both with the phrase dictionary, and returns aggregates only: the series per
year, how often each rule fired, and the agreement with the hand coding. No article text
leaves this function except through ``coded`` (kept in memory for the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from botrygt_eval.errors import InputFileError
from botrygt_eval.io.media import load_articles
from botrygt_eval.media.agreement import agreement_report
from botrygt_eval.media.coder import Dictionary, code_articles, load_dictionary, rule_counts
from botrygt_eval.media.plots import media_series_figure
from botrygt_eval.media.series import media_series
from botrygt_eval.results import ResultMixin

ARTICLES = "media/articles.csv"
HAND_CODED = "media/hand_coded.csv"


@dataclass(frozen=True)
class MediaResult(ResultMixin):
    """Coded articles (in memory only), the series, rule counts, agreement and load notes."""

    coded: pd.DataFrame
    series: pd.DataFrame
    rules: pd.DataFrame
    agreement: dict | None
    dictionary_version: str
    messages: tuple[str, ...]

    frame_columns = ("scope", "kommune_kode")

    def to_frame(self) -> pd.DataFrame:
        """The series (national and per kommune), shares suppressed below ``min_n``; the
        coded articles stay in :attr:`coded`."""
        return self.series.copy()

    def summary(self) -> str:
        s = self._payload()
        kappa = (
            f"; kappa (constructive) {self.agreement['constructive']['kappa']:.2f}"
            if self.agreement and "constructive" in self.agreement
            else ""
        )
        return (
            f"Media coverage: {s['n_articles']} articles, {s['n_burglary_articles']} about "
            f"burglary, {s['n_constructive_articles']} constructive (dictionary "
            f"{self.dictionary_version}){kappa}"
        )

    def _draw(self, *, kommune: int | None = None):
        """The constructive share per year, nationally (and for ``kommune``)."""
        s = self.series
        return media_series_figure(s[(s["scope"] == "national") | (s["kommune_kode"] == kommune)])

    def _payload(self) -> dict:
        """Aggregates for JSON: counts, dictionary version, national series, kappa."""
        nat = self.series[self.series["scope"] == "national"]
        return {
            "n_articles": int(len(self.coded)),
            "n_burglary_articles": int(self.coded["is_burglary"].sum()),
            "n_constructive_articles": int(self.coded["is_constructive"].sum()),
            "dictionary_version": self.dictionary_version,
            "min_n": int(self.series.attrs.get("min_n", 10)),
            "national": nat.drop(columns=["scope", "kommune_kode"]),
            "agreement": self.agreement,
            "load": list(self.messages),
        }


def has_media(root: str | Path) -> bool:
    """Whether the workspace holds an article export."""
    return (Path(root) / ARTICLES).is_file()


def analyse_media(
    root: str | Path,
    *,
    kommune: int | None = None,
    hand_coded: str | Path | None = None,
    dictionary: Dictionary | str | Path | None = None,
    min_n: int = 10,
    quarantine_dir: str | Path | None = None,
) -> MediaResult:
    """Code ``<root>/media/articles.csv`` and summarise it (see the module docstring).

    ``hand_coded`` defaults to ``<root>/media/hand_coded.csv`` when that file exists.
    """
    root = Path(root)
    path = root / ARTICLES
    if not path.is_file():
        raise InputFileError(
            f"{path}: no article export in the workspace; put the media-monitoring export "
            "there as described in docs/DATA_FORMATS.md (Media articles)"
        )
    d = dictionary if isinstance(dictionary, Dictionary) else load_dictionary(dictionary)
    loaded = load_articles(path, quarantine_dir)
    messages = [loaded.message()]
    coded = code_articles(loaded.data, d)
    series = media_series(coded, kommune=kommune, min_n=min_n)
    agreement = None
    hand_path = Path(hand_coded) if hand_coded is not None else root / HAND_CODED
    if hand_coded is not None or hand_path.is_file():
        hand = load_articles(hand_path, quarantine_dir, hand_coded=True)
        messages.append(hand.message())
        agreement = agreement_report(code_articles(hand.data, d))
        agreement["source"] = hand_path.name
    return MediaResult(coded, series, rule_counts(coded, d), agreement, d.version, tuple(messages))
