"""The printable HTML questionnaire: semantic, labelled, GDPR page first, closing page last."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from botrygt_eval.instrument import estimated_minutes, load_instrument
from botrygt_eval.instrument.html import render_html
from botrygt_eval.instrument.pages import controller_texts


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def _parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module", params=["da", "en"])
def page(request):
    inst = load_instrument(2025)
    controller, contact = controller_texts(751)
    html = render_html(inst, request.param, controller=controller, contact=contact)
    return inst, request.param, html, _parse(html)


def test_document_language_and_viewport(page):
    inst, lang, html, parsed = page
    assert parsed.tags[0] == ("html", {"lang": lang})
    assert (
        "meta",
        {"name": "viewport", "content": "width=device-width, initial-scale=1"},
    ) in parsed.tags
    assert "@media print" in html


def test_every_question_is_a_fieldset_with_legend_and_labelled_inputs(page):
    inst, lang, html, parsed = page
    fieldsets = [a for t, a in parsed.tags if t == "fieldset"]
    assert [a["id"] for a in fieldsets] == [f"q-{i}" for i in inst.item_ids]
    assert sum(t == "legend" for t, _ in parsed.tags) == len(inst.items)
    inputs = [a for t, a in parsed.tags if t == "input"]
    labels = {a["for"] for t, a in parsed.tags if t == "label"}
    assert len(inputs) == sum(len(inst.all_choices(i)) for i in inst.item_ids)
    assert all(a["id"] in labels for a in inputs)
    assert all(a["type"] == "radio" for a in inputs)
    # described-by targets exist
    ids = {a.get("id") for _, a in parsed.tags}
    for a in fieldsets:
        for ref in a.get("aria-describedby", "").split():
            assert ref in ids


def test_privacy_page_first_and_closing_page_last(page):
    inst, lang, html, parsed = page
    text = " ".join(parsed.text)
    first_question = text.index(inst.item("vict_burglary").text[lang])
    privacy = {
        "da": [
            "dataansvarlig",
            "Aarhus Kommune",
            "artikel 6, stk. 1, litra e",
            "5 år",
            "Datatilsynet",
            "indsigelse",
            "frivilligt",
        ],
        "en": [
            "data controller",
            "Aarhus Kommune",
            "Article 6(1)(e)",
            "5 years",
            "Data Protection Agency",
            "object",
            "voluntary",
        ],
    }[lang]
    for phrase in privacy:
        assert -1 < text.find(phrase) < first_question, phrase
    minutes = estimated_minutes(inst, lang)
    assert f"{minutes} minut" in text[:first_question]
    closing = inst.pages["closing"]["title"][lang]
    assert text.rindex(closing) > text.index(inst.item("household_children").text[lang])


def test_routing_instruction_is_printed(page):
    inst, lang, html, parsed = page
    expected = {
        "da": "Besvares kun, hvis du svarede «Ja» til spørgsmål 1 eller 2.",
        "en": "Answer only if you answered «Yes» to questions 1 or 2.",
    }[lang]
    assert expected in html


def test_generic_controller_without_kommune():
    inst = load_instrument(2025)
    controller, contact = controller_texts(None)
    html = render_html(inst, "da", controller=controller, contact=contact)
    assert "Din kommune (afsender af brevet i e-Boks) er dataansvarlig" in html


def test_official_municipality_names_as_controller():
    assert controller_texts(101)[0]["da"] == "Københavns Kommune"
    assert controller_texts("Bornholm")[0]["da"] == "Bornholms Regionskommune"
    assert controller_texts(751)[0]["en"] == "Aarhus Kommune"


def test_a_questionnaire_over_ten_minutes_is_refused(tmp_path):
    import shutil

    import yaml

    from botrygt_eval.errors import InstrumentError
    from botrygt_eval.instrument.bank import default_root

    shutil.copytree(default_root() / "2025", tmp_path / "2025")
    path = tmp_path / "2025" / "background.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    long_text = {
        "da": "Hvor enig er du i følgende udsagn om dit nabolag? " * 6,
        "en": "How much do you agree with this statement about your neighbourhood? " * 6,
    }
    extra = [{**data["items"][-1], "id": f"extra_{k}", "text": long_text} for k in range(20)]
    data["items"] += extra
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    inst = load_instrument(2025, tmp_path)
    assert estimated_minutes(inst) > 10
    controller, contact = controller_texts(None)
    with pytest.raises(InstrumentError, match="at most 10"):
        render_html(inst, "da", controller=controller, contact=contact)
