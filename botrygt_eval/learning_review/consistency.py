"""The GRIM check applied to every published number of the learning review.

For each base group (a multiple-choice question, or one item of a grid) it finds the
bases ``n`` from which all its published percentages can be printed, and for a given
``n`` (e.g. the 23 respondents most numbers fit) it names the impossible combinations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from botrygt_eval.errors import check_option
from botrygt_eval.learning_review.grim import (
    ROUNDINGS,
    Rounding,
    consistent_bases,
    format_bases,
    possible,
)
from botrygt_eval.learning_review.spec import ReviewSpec
from botrygt_eval.options import choices
from botrygt_eval.results import ResultMixin

RuleChoice = Literal["spec", "count", "sum_rounded"]
RULE_CHOICES: tuple[str, ...] = choices(RuleChoice)


def row_components(rows: pd.DataFrame, rule: RuleChoice = "spec") -> pd.Series:
    """Rounded categories added per row: 1 under ``count``, len(codes) under ``sum_rounded``."""
    check_option("rule", rule, RULE_CHOICES)
    n_codes = rows["codes"].map(len)
    if rule == "count":
        return pd.Series(1, index=rows.index)
    if rule == "sum_rounded":
        return n_codes
    return n_codes.where(rows["combine"] == "sum_rounded", 1)


def group_bases(
    rows: pd.DataFrame,
    *,
    rule: RuleChoice = "spec",
    n_min: int = 10,
    n_max: int = 40,
    rounding: Rounding = "half_up",
) -> dict[str, list[int]]:
    """Consistent bases per base group (categories of one item must also fit together)."""
    comp = row_components(rows, rule)
    out = {}
    for group, sub in rows.groupby("base_group", sort=False):
        joint = sub["column"].nunique() == 1 and len(sub) > 1
        out[group] = consistent_bases(
            sub["published_pct"],
            comp.loc[sub.index],
            n_min=n_min,
            n_max=n_max,
            rounding=rounding,
            joint=joint,
        )
    return out


@dataclass(frozen=True)
class GrimReport(ResultMixin):
    """Consistent bases per published row and per base group; impossible combinations."""

    rows: pd.DataFrame
    groups: pd.DataFrame
    charts: pd.DataFrame
    n: int | None
    rule: str
    rounding: str
    n_range: tuple[int, int]

    @property
    def impossible(self) -> pd.DataFrame:
        """Rows that cannot be printed from ``n`` (or from any base in the range)."""
        if self.n is not None:
            return self.rows[~self.rows["possible_at_n"]]
        return self.rows[self.rows["bases"] == "ingen"]

    @property
    def inconsistent_groups(self) -> pd.DataFrame:
        """Base groups with no single base that fits all their numbers."""
        return self.groups[self.groups["n_bases"] == 0]

    @property
    def ok(self) -> bool:
        return self.impossible.empty and self.inconsistent_groups.empty

    frame_columns = ("figure", "item", "category", "published_pct", "bases")

    def to_frame(self) -> pd.DataFrame:
        return self.rows.copy()

    def _payload(self) -> dict:
        return {"rule": self.rule, "rounding": self.rounding, "n": self.n,
                "n_range": self.n_range, "ok": self.ok, "rows": self.rows,
                "groups": self.groups, "charts": self.charts}  # fmt: skip

    def summary(self) -> str:
        lo, hi = self.n_range
        lines = [
            f"GRIM-check af {len(self.rows)} publicerede procenter "
            f"(regel: {self.rule}, afrunding: {self.rounding}, baser {lo}–{hi})"
        ]
        lines.append("Baser, der passer med alle tal i figuren (og pr. spørgsmål):")
        for c in self.charts.itertuples():
            lines.append(f"  {c.figure:<15} {c.bases}")
            items = self.groups[self.groups["figure"] == c.figure]
            for g in items.itertuples() if len(items) > 1 else ():
                lines.append(f"    {g.base_group:<30} {g.bases}")
        if self.n is not None:
            lines.append(f"Umulige med n = {self.n}:")
        else:
            lines.append("Umulige med alle baser i intervallet:")
        bad = self.impossible
        if bad.empty and self.inconsistent_groups.empty:
            lines.append("  ingen")
        for r in bad.itertuples():
            lines.append(
                f"  {r.figure} / {r.item} / {r.category}: {r.published_pct} % "
                f"(mulige baser: {r.bases})"
            )
        for g in self.inconsistent_groups.itertuples():
            lines.append(f"  {g.figure} / {g.base_group}: ingen fælles base for alle tal")
        return "\n".join(lines)


def grim_report(
    spec: ReviewSpec,
    *,
    n: int | None = None,
    n_min: int = 10,
    n_max: int = 40,
    rule: RuleChoice = "spec",
    rounding: Rounding = "half_up",
) -> GrimReport:
    """Check every published percentage of the review (see module docstring)."""
    check_option("rule", rule, RULE_CHOICES)
    check_option("rounding", rounding, ROUNDINGS)
    rows = spec.rows.copy()
    rows["components"] = row_components(rows, rule)
    rows["bases"] = [
        format_bases(consistent_bases([p], [c], n_min=n_min, n_max=n_max, rounding=rounding))
        for p, c in zip(rows["published_pct"], rows["components"], strict=True)
    ]
    if n is not None:
        rows["possible_at_n"] = [
            possible(int(p), n, int(c), rounding)
            for p, c in zip(rows["published_pct"], rows["components"], strict=True)
        ]
    by_group = group_bases(rows, rule=rule, n_min=n_min, n_max=n_max, rounding=rounding)
    first = rows.drop_duplicates("base_group").set_index("base_group")["figure"]
    groups = pd.DataFrame(
        {
            "figure": [first[g] for g in by_group],
            "base_group": list(by_group),
            "bases": [format_bases(b) for b in by_group.values()],
            "n_bases": [len(b) for b in by_group.values()],
        }
    )
    common = {}
    for fig, group in zip(groups["figure"], by_group, strict=True):
        common[fig] = common.get(fig, set(range(n_min, n_max + 1))) & set(by_group[group])
    charts = pd.DataFrame(
        {
            "figure": list(common),
            "bases": [format_bases(b) for b in common.values()],
            "n_bases": [len(b) for b in common.values()],
        }
    )
    cols = ["figure", "item", "category", "published_pct", "column", "components", "bases"]
    if n is not None:
        cols.append("possible_at_n")
    return GrimReport(rows[cols], groups, charts, n, rule, rounding, (n_min, n_max))
