"""A small synthetic Danish article corpus with planted codes (issue #11, media part).

Every article is clearly synthetic (outlets are called "Syntetisk ...", every text opens
with "SYNTETISK ARTIKEL"). Articles are built from short Danish templates whose true codes
(burglary-related, constructive) are planted: the "human" codes of a hand-coding. The chance
that a burglary article is constructive rises on the logit scale from about 4.6 % in 2017 to
50 % in 2024 (the learning review's figures), plus ``partner_boost`` on the log-odds in a
partnership kommune from its signing year. A few deliberately hard templates are coded
differently by a careful reader than by the dictionary (an incident where a neighbour "rang
114", a council debating street lighting, advice in words the dictionary does not know), so
the coder's kappa against the hand-coded sample is high but below 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from botrygt_eval.reference import kommuner
from botrygt_eval.simulate._random import stream

SHARE_2017, SHARE_2024 = 0.046, 0.50
NATIONAL_OUTLETS = ("Syntetisk Landsavis", "Syntetisk Radio", "Syntetisk Netmedie")
LOCAL_OUTLETS = ("Syntetisk Dagblad", "Syntetisk Ugeavis", "Syntetisk Politi-nyt")

# (headline, body) templates; the kind fixes the planted codes
PLAIN = [
    ("Indbrud i villa i nat", "Tyvene tog smykker og en computer. Politiet efterforsker sagen."),
    ("Indbrudstyve hærgede rækkehuskvarter", "Fire huse blev ramt i løbet af weekenden."),
    ("Flere indbrud end sidste år", "Ifølge døgnrapporten blev der anmeldt seks indbrud."),
    ("Tyve brød ind i parcelhus", "Ejeren opdagede det, da hun kom hjem fra arbejde."),
    ("Antallet af indbrud faldt i første kvartal", "Kurven er den laveste i ti år."),
    ("Villaindbrud: smykker og computer stjålet", "Politiet har endnu ingen mistænkte."),
    ("Ubudne gæster på besøg i weekenden", "Der blev stjålet kontanter og en cykel."),
    ("Indbruddene koster forsikringsselskaberne dyrt", "Erstatningerne steg sidste år."),
]
CONSTRUCTIVE = [
    ("Sådan forebygger du indbrud i sommerferien",
     "Bed naboen tømme postkassen. Tænd gerne lys med et tidsur."),
    ("Politiet og Bo trygt: fem råd mod indbrud",
     "Gør det svært at bryde ind, og ring 114 ved mistanke om indbrud."),
    ("Indbrud i kvarteret: bliv nabohjælper", "Nabohjælp gør en forskel, siger politiet."),
    ("Indbrudstyve på spil", "Husk at låse døren, også når du bare går en tur."),
    ("Stjålne ting fra indbrud sælges videre",
     "Køber du brugt, så brug sikre betalingsformer og tjek serienummeret."),
    ("Trim hækken og hold indbrudstyven væk",
     "En lav hæk og udendørs belysning gør det sværere for tyven."),
    ("Indbrud i ferien", "Glem ikke at lukke vinduerne, før du tager afsted."),
    ("Efter indbruddene: tilmeld dig tryghedsvandring",
     "Kommunen og politiet inviterer til tryghedsvandring på torsdag."),
]  # fmt: skip
OTHER = [
    ("Byrådet vedtog budgettet", "Der blev afsat flere penge til skoler og veje."),
    ("Dataindbrud hos forsyningsselskab", "Hackere fik adgang til kundedata."),
    ("Tænd lyset og nyd julemarkedet", "Boderne åbner på fredag."),
    ("Bilindbrud på pladsen ved stationen", "Der blev stjålet en taske fra en bil."),
    ("Koncert i parken", "Flere tusinde ventes til lørdagens koncert."),
    ("Bo trygt holder årsmøde", "Partnerskaberne mødes i Odense og deler erfaringer."),
    ("Ny skole åbner efter sommerferien", "Eleverne flytter ind i august."),
    ("Trafikuheld på motorvejen", "To biler stødte sammen i morgentrafikken."),
]
#: (headline, body, human burglary, human constructive, coder burglary, coder constructive)
HARD = {
    "fp_114": ("Indbrudstyv anholdt", "En nabo ringede 114, og patruljen kom efter fem minutter.",
               True, False, True, True),
    "fp_council": ("Byrådet vil have udendørs belysning på stierne",
                   "Forslaget kommer efter en række indbrud i området.", True, False, True, True),
    "fn_paraphrase": ("Indbrud i ferien", "Lad en bekendt kigge efter huset, og lad ikke stigen "
                      "stå fremme i haven.", True, True, True, False),
    "fn_no_term": ("Tyvene kom ind gennem terrassedøren", "De stjal smykker og et fjernsyn.",
                   True, False, False, False),
    "fp_bike": ("Indbrudssikret cykelparkering ved stationen", "Kommunen bygger 200 pladser.",
                False, False, True, False),
}  # fmt: skip


@dataclass(frozen=True)
class MediaCorpus:
    """The corpus, the hand-coded sample and the planted truth."""

    articles: pd.DataFrame
    hand_coded: pd.DataFrame
    truth: dict


def constructive_probability(years: np.ndarray) -> np.ndarray:
    """Linear on the logit scale through 4.6 % in 2017 and 50 % in 2024."""
    l0, l1 = np.log(SHARE_2017 / (1 - SHARE_2017)), 0.0
    logit = l0 + (l1 - l0) * (np.asarray(years, dtype=float) - 2017) / 7
    return 1 / (1 + np.exp(-logit))


def _pick(templates: list, idx: np.ndarray, part: int) -> np.ndarray:
    return np.array([t[part] for t in templates], dtype=object)[idx]


def simulate_media(
    seed: int,
    *,
    years: tuple[int, int] = (2017, 2025),
    per_year: int = 160,
    partners: pd.DataFrame | None = None,
    partner_boost: float = 0.4,
    partner_weight: float = 8.0,
    hard_share: float = 0.03,
    burglary_share: float = 0.7,
    national_share: float = 0.35,
    hand_sample: int = 200,
    hand_hard_per_kind: int = 2,
) -> MediaCorpus:
    """Simulate ``per_year`` articles a year; ``partners`` (``kommune_kode, signed_date``)
    get more local coverage and a more constructive one from their signing year."""
    rng = stream(seed, "media-corpus")
    yr = np.repeat(np.arange(years[0], years[1] + 1), per_year)
    n = len(yr)
    ref = kommuner()
    codes = ref["kommune_kode"].to_numpy()
    names = ref.set_index("kommune_kode")["kommune"]
    signed = pd.Series(dtype="float64")
    if partners is not None and len(partners):
        signed = (
            pd.to_datetime(partners["signed_date"]).dt.year.groupby(partners["kommune_kode"]).min()
        )
    weight = np.where(np.isin(codes, signed.index), partner_weight, 1.0)
    national = rng.random(n) < national_share
    kommune = rng.choice(codes, size=n, p=weight / weight.sum())
    kommune_col = pd.array(np.where(national, 0, kommune), dtype="Int64")
    kommune_col[national] = pd.NA
    u_kind, u_con = rng.random(n), rng.random(n)
    hard = u_kind < hard_share
    burglary = ~hard & (u_kind < hard_share + burglary_share * (1 - hard_share))
    sign_year = pd.Series(kommune).map(signed).to_numpy(dtype=float)
    boosted = ~national & (yr >= np.nan_to_num(sign_year, nan=np.inf))
    p = constructive_probability(yr)
    logit = np.log(p / (1 - p)) + partner_boost * boosted
    constructive = burglary & (u_con < 1 / (1 + np.exp(-logit)))
    kinds = list(HARD)
    hard_kind = np.array(kinds, dtype=object)[rng.integers(0, len(kinds), n)]
    i_plain = rng.integers(0, len(PLAIN), n)
    i_con = rng.integers(0, len(CONSTRUCTIVE), n)
    i_other = rng.integers(0, len(OTHER), n)
    headline = np.where(
        constructive, _pick(CONSTRUCTIVE, i_con, 0),
        np.where(burglary, _pick(PLAIN, i_plain, 0), _pick(OTHER, i_other, 0)),
    )  # fmt: skip
    body = np.where(
        constructive, _pick(CONSTRUCTIVE, i_con, 1),
        np.where(burglary, _pick(PLAIN, i_plain, 1), _pick(OTHER, i_other, 1)),
    )  # fmt: skip
    hard_rows = pd.DataFrame.from_dict(HARD, orient="index").loc[hard_kind[hard]]
    headline[hard] = hard_rows[0].to_numpy()
    body[hard] = hard_rows[1].to_numpy()
    human_b = np.where(hard, False, burglary)
    human_c = np.where(hard, False, constructive)
    human_b[hard] = hard_rows[2].to_numpy(dtype=bool)
    human_c[hard] = hard_rows[3].to_numpy(dtype=bool)
    place = np.where(
        national, "Landsdækkende.", pd.Series(kommune).map(names).to_numpy(dtype=object) + "."
    )
    outlet = np.where(
        national,
        np.array(NATIONAL_OUTLETS, dtype=object)[rng.integers(0, 3, n)],
        np.array(LOCAL_OUTLETS, dtype=object)[rng.integers(0, 3, n)],
    )
    day = rng.integers(0, 365, n)
    date = pd.to_datetime(yr.astype(str), format="%Y") + pd.to_timedelta(day, unit="D")
    articles = pd.DataFrame(
        {
            "date": date.strftime("%Y-%m-%d"),
            "outlet": outlet,
            "kommune": kommune_col,
            "headline": headline,
            "text": "SYNTETISK ARTIKEL. " + place + " " + body,
        }
    )
    order = np.argsort(date.to_numpy(), kind="stable")
    planted = pd.DataFrame({"hand_burglary": human_b, "hand_constructive": human_c})
    articles, planted = articles.iloc[order], planted.iloc[order]
    ids = "SIM-" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(5)
    articles.insert(0, "article_id", ids.to_numpy())
    hard_sorted = hard[order]
    kind_sorted = np.where(hard, hard_kind, "")[order]
    # hand-coded sample: random easy articles plus a fixed number of each hard kind
    srng = stream(seed, "media-hand-coded")
    easy_pos = np.flatnonzero(~hard_sorted)
    chosen = [srng.choice(easy_pos, size=min(hand_sample, len(easy_pos)), replace=False)]
    for kind in kinds:
        pos = np.flatnonzero(kind_sorted == kind)
        chosen.append(srng.choice(pos, size=min(hand_hard_per_kind, len(pos)), replace=False))
    pick = srng.permutation(np.concatenate(chosen))
    hand = articles.iloc[pick].copy()
    hand["hand_burglary"] = planted["hand_burglary"].to_numpy()[pick].astype(int)
    hand["hand_constructive"] = planted["hand_constructive"].to_numpy()[pick].astype(int)
    truth = _truth(articles, planted, hard_sorted, kind_sorted, hand, yr[order], years,
                   partner_boost)  # fmt: skip
    return MediaCorpus(articles.reset_index(drop=True), hand.reset_index(drop=True), truth)


def _truth(articles, planted, hard, kind, hand, yr, years, boost) -> dict:
    b = planted["hand_burglary"].to_numpy(dtype=bool)
    c = planted["hand_constructive"].to_numpy(dtype=bool) & b
    all_years = np.arange(years[0], years[1] + 1)
    n_b = np.array([(b & (yr == y)).sum() for y in all_years])  # nine years
    n_c = np.array([(c & (yr == y)).sum() for y in all_years])
    hand_ids = set(hand["article_id"])
    ids = articles["article_id"].to_numpy()
    return {
        "definition": "planted (hand) codes; share = constructive / burglary articles by year, "
        "all articles (national)",
        "constructive_probability_by_year": {
            str(y): round(float(p), 6)
            for y, p in zip(all_years, constructive_probability(all_years), strict=True)
        },
        "partner_boost_log_odds": boost,
        "partner_boost_rule": "added to the log-odds of local articles of a partnership kommune "
        "from its signing year on",
        "planted_share_by_year": {
            str(y): (round(float(k / m), 6) if m else None)
            for y, k, m in zip(all_years, n_c, n_b, strict=True)
        },
        "planted_burglary_articles_by_year": {
            str(y): int(m) for y, m in zip(all_years, n_b, strict=True)
        },
        "n_articles": int(len(articles)),
        "hard_cases": {
            "rule": "templates a careful reader codes differently from the dictionary",
            "kinds": {k: {"hand": [v[2], v[3]], "coder": [v[4], v[5]]} for k, v in HARD.items()},
            "article_ids": sorted(str(i) for i in ids[hard]),
            "in_hand_coded_sample": sorted(str(i) for i in ids[hard] if i in hand_ids),
        },
        "hand_coded_sample": {
            "n": int(len(hand)),
            "design": "a simple random sample of the articles outside the hard templates plus "
            "a fixed number of each hard kind (hard cases over-represented on purpose)",
        },
    }


__all__ = ["MediaCorpus", "simulate_media", "constructive_probability", "HARD"]
