"""Pandera schemas for every tidy input table (docs/DATA_FORMATS.md).

The loaders in :mod:`botrygt_eval.io` parse a file into the tidy columns and then
validate with one of these schemas; a row that fails a check is quarantined with
the check's message as its reason. Checks carry messages in the user's terms, so a
quarantine file can be read without knowing pandera.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from botrygt_eval.reference import kommune_codes

#: Offence code of burglary of dwellings (``1320 Indbrud i beboelser``) in STRAF10/11.
BURGLARY_OFFENCE_CODE = 1320
KOMMUNE_CODES: tuple[int, ...] = tuple(kommune_codes())
SEXES = ("male", "female")
AGE_BANDS = ("18-29", "30-44", "45-59", "60-74", "75+")
ACTIVITY_TYPES = (
    "kampagne",
    "tryghedsvandring",
    "borgermoede",
    "nabohjaelp_rekruttering",
    "bo_trygt_korps",
    "reaktionsplan",
    "data_gis",
    "lokalt_arrangement",
    "mobil_politistation",
    "erhvervssamarbejde",
    "andet",
)
MIN_YEAR, MAX_YEAR = 1990, 2100
RESP_ID_PATTERN = r"^[0-9a-f]{16}$"
#: relative tolerance for design_weight = 1/incl_prob in a sample file
WEIGHT_RTOL = 1e-4


def kommune_column() -> pa.Column:
    """A ``kommune_kode`` column: one of the 98 municipality codes (also for io.monitoring)."""
    return pa.Column(
        "int64",
        pa.Check.isin(KOMMUNE_CODES, error="not one of the 98 municipality codes"),
        coerce=True,
    )


def _year() -> pa.Column:
    return pa.Column(
        "int64",
        pa.Check.in_range(MIN_YEAR, MAX_YEAR, error=f"year outside {MIN_YEAR}-{MAX_YEAR}"),
        coerce=True,
    )


def _quarter() -> pa.Column:
    return pa.Column("int64", pa.Check.isin([1, 2, 3, 4], error="quarter must be 1-4"), coerce=True)


def _count(nullable: bool = True) -> pa.Column:
    return pa.Column(
        "Int64",
        pa.Check.ge(0, error="count is negative"),
        nullable=nullable,
        coerce=True,
    )


def _date(nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[ns]", nullable=nullable, coerce=True)


def _end_not_before(start: str, end: str) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        return df[end].isna() | df[start].isna() | (df[end] >= df[start])

    return pa.Check(check, error=f"{end} is before {start}")


BURGLARIES_QUARTERLY = pa.DataFrameSchema(
    {
        "kommune_kode": kommune_column(),
        "year": _year(),
        "quarter": _quarter(),
        "offence_code": pa.Column(
            "int64",
            pa.Check.eq(BURGLARY_OFFENCE_CODE, error="offence code is not 1320"),
            coerce=True,
        ),
        "burglaries": _count(),
    },
    unique=["kommune_kode", "year", "quarter"],
    name="burglaries_quarterly",
)

BURGLARIES_ANNUAL = pa.DataFrameSchema(
    {
        "kommune_kode": kommune_column(),
        "year": _year(),
        "offence_code": BURGLARIES_QUARTERLY.columns["offence_code"],
        "burglaries": _count(),
    },
    unique=["kommune_kode", "year"],
    name="burglaries_annual",
)

POPULATION = pa.DataFrameSchema(
    {
        "kommune_kode": kommune_column(),
        "year": _year(),
        "quarter": _quarter(),
        "sex": pa.Column(str, pa.Check.isin(SEXES, error="sex must be male or female")),
        "age": pa.Column(
            "int64", pa.Check.in_range(0, 130, error="age outside 0-130"), coerce=True
        ),
        "population": _count(),
    },
    unique=["kommune_kode", "year", "quarter", "sex", "age"],
    name="population",
)

HOUSEHOLDS = pa.DataFrameSchema(
    {"kommune_kode": kommune_column(), "year": _year(), "households": _count()},
    unique=["kommune_kode", "year"],
    name="households",
)

PARTNERSHIPS = pa.DataFrameSchema(
    {
        "kommune_kode": kommune_column(),
        "signed_date": _date(),
        "end_date": _date(nullable=True),
        "baseline_year": _year(),
        "burglary_target_pct": pa.Column(
            float,
            pa.Check.in_range(-100, 100, error="burglary_target_pct outside -100 to 100"),
            nullable=True,
            coerce=True,
        ),
        "nabohjaelp_target": _count(),
        "fear_target_pct": pa.Column(
            float,
            pa.Check.in_range(0, 100, error="fear_target_pct outside 0-100"),
            nullable=True,
            coerce=True,
        ),
    },
    checks=[
        _end_not_before("signed_date", "end_date"),
        pa.Check(
            lambda df: df["baseline_year"] <= df["signed_date"].dt.year,
            error="baseline_year is after the year the partnership was signed",
        ),
    ],
    name="partnerships",
)

ACTIVITIES = pa.DataFrameSchema(
    {
        "activity_id": pa.Column(str, nullable=False),
        "kommune_kode": kommune_column(),
        "activity_type": pa.Column(
            str,
            pa.Check.isin(
                ACTIVITY_TYPES,
                error="activity_type is not in the vocabulary (" + ", ".join(ACTIVITY_TYPES) + ")",
            ),
        ),
        "start_date": _date(),
        "end_date": _date(nullable=True),
        "reach": _count(),
        "cost_dkk": pa.Column(
            float, pa.Check.ge(0, error="cost_dkk is negative"), nullable=True, coerce=True
        ),
    },
    checks=[_end_not_before("start_date", "end_date")],
    unique=["activity_id"],
    name="activities",
)

NABOHJAELP = pa.DataFrameSchema(
    {"kommune_kode": kommune_column(), "year": _year(), "members": _count()},
    unique=["kommune_kode", "year"],
    name="nabohjaelp",
)


def _age_band_matches(df: pd.DataFrame) -> pd.Series:
    band = pd.cut(df["age"], [-1, 17, 29, 44, 59, 74, 200], labels=["<18", *AGE_BANDS]).astype(str)
    return band == df["age_band"]


SURVEY_SAMPLE = pa.DataFrameSchema(
    {
        "resp_id": pa.Column(
            str, pa.Check.str_matches(RESP_ID_PATTERN, error="resp_id is not 16 hex characters")
        ),
        "year": _year(),
        "kommune_kode": kommune_column(),
        "sex": POPULATION.columns["sex"],
        "age": pa.Column(
            "int64", pa.Check.in_range(18, 130, error="age outside 18-130"), coerce=True
        ),
        "age_band": pa.Column(
            str, pa.Check.isin(AGE_BANDS, error="age_band is not one of " + ", ".join(AGE_BANDS))
        ),
        "incl_prob": pa.Column(
            float,
            pa.Check.in_range(0, 1, include_min=False, error="incl_prob outside (0, 1]"),
            coerce=True,
        ),
        "design_weight": pa.Column(
            float, pa.Check.ge(1, error="design_weight below 1"), coerce=True
        ),
        "stratum_population": pa.Column(
            "int64", pa.Check.gt(0, error="stratum_population must be positive"), coerce=True
        ),
        "responded": pa.Column(
            "int64", pa.Check.isin([0, 1], error="responded must be 0 or 1"), coerce=True
        ),
    },
    checks=[
        pa.Check(
            # within 0.01 %: platforms may round either column when writing
            lambda df: (df["design_weight"] * df["incl_prob"] - 1).abs() <= WEIGHT_RTOL,
            error="design_weight is not 1/incl_prob",
        ),
        pa.Check(_age_band_matches, error="age_band does not match age"),
    ],
    unique=["resp_id"],
    name="survey_sample",
)


def response_schema(item_columns: list[str] | tuple[str, ...] = ()) -> pa.DataFrameSchema:
    """The default schema for a survey platform export: ids, year, integer item codes.

    Item columns are nullable integers (empty = not asked or skipped). The
    questionnaire module can pass a stricter per-year schema to the loader instead.
    """
    columns: dict[str, pa.Column] = {
        "resp_id": SURVEY_SAMPLE.columns["resp_id"],
        "year": _year(),
    }
    for name in item_columns:
        columns[name] = pa.Column(
            "Int64",
            pa.Check.ge(0, error=f"{name} is not a non-negative answer code"),
            nullable=True,
            coerce=True,
            required=True,
        )
    return pa.DataFrameSchema(columns, unique=["resp_id"], name="survey_responses")


SURVEY_RESPONSES_BASE = response_schema()

MARGINS = pa.DataFrameSchema(
    {
        "variable": pa.Column(str, pa.Check.str_length(min_value=1)),
        "level": pa.Column(str),
        "total": pa.Column(float, pa.Check.ge(0, error="margin total is negative"), coerce=True),
    },
    unique=["variable", "level"],
    name="margins",
)
