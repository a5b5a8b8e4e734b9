"""The information (GDPR) and closing pages, with the data controller filled in."""

from __future__ import annotations

from botrygt_eval.instrument.bank import LANGUAGES, Instrument
from botrygt_eval.reference import kommune_name, to_kommune_kode

_GENERIC_CONTROLLER = {
    "da": "Din kommune (afsender af brevet i e-Boks)",
    "en": "Your municipality (the sender of the letter in e-Boks)",
}
_GENERIC_CONTACT = {
    "da": "kommunens databeskyttelsesrådgiver (se kommunens hjemmeside)",
    "en": "the municipality's data protection officer (see the municipality's website)",
}
# Official names that are not "<name> Kommune".
_OFFICIAL = {101: "Københavns Kommune", 400: "Bornholms Regionskommune"}
_TIME = {
    "da": "Det tager cirka {minutes} minutter at svare.",
    "en": "It takes about {minutes} minutes to answer.",
}


def controller_texts(kommune: int | str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Data controller and contact per language, for one kommune or generic."""
    if kommune is None:
        return dict(_GENERIC_CONTROLLER), dict(_GENERIC_CONTACT)
    code = to_kommune_kode(kommune)
    who = _OFFICIAL.get(code) or f"{kommune_name(code)} Kommune"
    controller = {lang: who for lang in LANGUAGES}
    contact = {
        "da": f"databeskyttelsesrådgiveren i {who} (se kommunens hjemmeside)",
        "en": f"the data protection officer of {who} (see the municipality's website)",
    }
    return controller, contact


def page_paragraphs(
    inst: Instrument, page: str, lang: str, *, controller: str, contact: str, minutes: int
) -> list[tuple[str | None, str, list[str]]]:
    """(heading, text, bullet points) of ``page`` in ``lang``; the privacy page states the time."""
    out: list[tuple[str | None, str, list[str]]] = []
    for para in inst.pages[page]["paragraphs"]:
        heading = (para.get("heading") or {}).get(lang)
        bullets = [entry[lang] for entry in para.get("list") or ()]
        out.append((heading, para[lang].format(controller=controller, contact=contact), bullets))
    if page == "privacy":
        out.insert(1, (None, _TIME[lang].format(minutes=minutes), []))
    return out
