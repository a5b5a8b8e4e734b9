"""Numbers, percentages and dates written the reader's way, by Babel (CLDR locale data).

Danish reports use ``da_DK`` ("1.234,5", "12,3 %", "5. marts 2019"), English ones ``en_GB``
("1,234.5", "12.3%", "5 March 2019"). The minus is CLDR's for both locales, the
hyphen-minus ("-12,0"). Rounding is that of the exact binary value, half to even, as
Python's own ``format`` does, so a number reads the same in a table and in a sentence.
A missing or infinite number is written ``–``.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

from botrygt_eval.errors import check_option

#: The report languages and the Babel locale each is written in.
LOCALES: dict[str, str] = {"da": "da_DK", "en": "en_GB"}
LANGS: tuple[str, ...] = tuple(LOCALES)

#: What follows a percentage: a space in Danish (Retskrivningsordbogen), none in English.
_PERCENT_SIGN = {"da": " %", "en": "%"}

MISSING = "–"


def check_lang(lang: str) -> str:
    """Refuse a language other than ``da`` or ``en`` (listing both)."""
    check_option("lang", lang, LANGS)
    return lang


def num(x: float | None, lang: str = "da", digits: int = 1) -> str:
    """``1234.5`` as ``1.234,5`` (da) or ``1,234.5`` (en) with ``digits`` decimals;
    missing as ``–``."""
    check_lang(lang)
    if x is None or not math.isfinite(float(x)):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    # the exact binary value (not its shortest repr), so ties round as Python's format does
    return format_decimal(Decimal(float(x)), format=pattern, locale=LOCALES[lang],
                          decimal_quantization=True)  # fmt: skip


def percent(x: float | None, lang: str = "da", digits: int = 1) -> str:
    """A percentage already on the 0-100 scale: ``12,3 %`` (da) or ``12.3%`` (en)."""
    text = num(x, lang, digits)
    return text if text == MISSING else text + _PERCENT_SIGN[lang]


def date(d, lang: str = "da") -> str:
    """A date as ``5. marts 2019`` (da) or ``5 March 2019`` (en): the locale's long form."""
    check_lang(lang)
    if isinstance(d, str):
        d = _dt.date.fromisoformat(d[:10])
    elif isinstance(d, _dt.datetime):  # also a pandas Timestamp
        d = d.date()
    return format_date(d, format="long", locale=LOCALES[lang])
