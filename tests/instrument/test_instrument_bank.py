"""The item bank: both languages, unique codes, backward routing, agreement with DATA_FORMATS."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from botrygt_eval.errors import InstrumentError
from botrygt_eval.instrument import available_years, diff_instruments, load_instrument
from botrygt_eval.instrument.bank import default_root
from botrygt_eval.instrument.timing import MAX_MINUTES, estimated_minutes, estimated_seconds

DATA_FORMATS = Path(__file__).resolve().parents[2] / "docs" / "DATA_FORMATS.md"
YEARS = available_years()


def _documented_items() -> list[tuple[str, set[int]]]:
    """Column names and substantive codes from the table in docs/DATA_FORMATS.md."""
    text = DATA_FORMATS.read_text(encoding="utf-8")
    section = text[text.index("### Items of the 2025 citizen questionnaire") :]
    section = section[: section.index("Derived outcomes")]
    out, previous = [], set()
    for line in section.splitlines():
        m = re.match(r"^\| `([a-z0-9_]+)` \| [^|]+ \| ([^|]+) \|$", line.strip())
        if not m:
            continue
        spec = m.group(2).strip()
        if spec == "yes/no":
            codes = {1, 2}
        elif spec == "as above":
            codes = previous
        else:
            codes = {int(c) for c in re.findall(r"(?:^|, )(\d+)(?= |,|$)", spec)}
        out.append((m.group(1), codes))
        previous = codes
    return out


def test_both_years_exist():
    assert {2024, 2025} <= set(YEARS)


def test_2025_items_match_the_data_formats_contract():
    documented = _documented_items()
    assert len(documented) == 23  # the parser found the whole table
    inst = load_instrument(2025)
    assert list(inst.item_ids) == [name for name, _ in documented]
    for name, codes in documented:
        assert set(inst.item(name).substantive_codes) == codes, name
    assert inst.special_codes == (98, 99)
    assert [c.label["da"] for c in inst.special] == ["Ved ikke", "Ønsker ikke at svare"]


@pytest.mark.parametrize("year", YEARS)
def test_every_item_is_complete_in_both_languages(year):
    inst = load_instrument(year)
    assert len(set(inst.item_ids)) == len(inst.item_ids)
    for item in inst.items:
        for lang in ("da", "en"):
            assert item.text[lang].strip(), (item.id, lang)
            assert all(c.label[lang].strip() for c in inst.all_choices(item.id)), (item.id, lang)
        codes = [c.code for c in inst.all_choices(item.id)]
        assert len(codes) == len(set(codes)), item.id
        assert item.source and item.construct and item.topic
        if (
            not item.source.lower().startswith("own wording")
            and "bo trygt advice" not in item.source.lower()
        ):
            assert item.source.startswith("Adapted from"), item.id  # never claim verbatim wording


@pytest.mark.parametrize("year", YEARS)
def test_routing_refers_only_to_earlier_items(year):
    inst = load_instrument(year)
    position = {item_id: k for k, item_id in enumerate(inst.item_ids)}
    routed = [i for i in inst.items if i.relevant is not None]
    assert routed  # the test is not vacuous
    for item in routed:
        for cond in item.relevant.conditions:
            assert position[cond.item] < position[item.id]


@pytest.mark.parametrize("year", YEARS)
def test_every_outcome_is_fed_and_every_feeding_item_records_it(year):
    inst = load_instrument(year)
    assert set(inst.outcomes) == {
        "fear_burglary",
        "unsafe_home",
        "nabohjaelper",
        "prevention_index",
        "victim_burglary",
    }
    index_items = [
        i.id for i in inst.items if any(m.outcome == "prevention_index" for m in i.measures)
    ]
    assert index_items == [
        "prev_nabohjaelp",
        "prev_light_hedge",
        "prev_secure_home",
        "prev_safe_payment",
        "prev_call_114",
    ]


@pytest.mark.parametrize("year", YEARS)
def test_completion_time_under_ten_minutes(year):
    inst = load_instrument(year)
    for lang in ("da", "en"):
        assert estimated_minutes(inst, lang) <= MAX_MINUTES
        # more items take longer: the estimate responds to the bank
    assert estimated_seconds(inst) > 60 * 3


@pytest.mark.parametrize("pair", list(zip(YEARS[:-1], YEARS[1:], strict=True)))
def test_every_change_is_recorded_in_the_changelog(pair):
    old, new = pair
    found = {(c.item, c.change) for c in diff_instruments(old, new).changes}
    recorded = {(r.item, r.change) for r in load_instrument(new).changelog}
    assert found == recorded
    assert load_instrument(new).previous_year == old


# ---- invalid banks are refused with a message naming the problem -------------------------


def _copy_bank(tmp_path: Path, year: int = 2025) -> Path:
    shutil.copytree(default_root() / str(year), tmp_path / str(year))
    return tmp_path


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_routing_to_a_later_item_is_refused(tmp_path):
    root = _copy_bank(tmp_path)
    _edit(
        root / "2025" / "victimisation.yaml",
        lambda d: d["items"][0].update(relevant={"any": [{"item": "worry_burglary", "in": [1]}]}),
    )
    with pytest.raises(InstrumentError, match="vict_burglary.*worry_burglary.*comes later"):
        load_instrument(2025, root)


def test_missing_english_text_is_refused(tmp_path):
    root = _copy_bank(tmp_path)
    _edit(root / "2025" / "tryghed.yaml", lambda d: d["items"][1]["text"].pop("en"))
    with pytest.raises(InstrumentError, match="likelihood_burglary.*en text is missing"):
        load_instrument(2025, root)


def test_duplicate_codes_and_ids_are_refused(tmp_path):
    root = _copy_bank(tmp_path)
    _edit(
        root / "2025" / "background.yaml",
        lambda d: d["items"][1]["choices"].append({"code": 1, "da": "Andet", "en": "Other"}),
    )
    with pytest.raises(InstrumentError, match="tenure.*not unique"):
        load_instrument(2025, root)
    root2 = _copy_bank(tmp_path / "b")
    _edit(root2 / "2025" / "background.yaml", lambda d: d["items"][1].update(id="housing_type"))
    with pytest.raises(InstrumentError, match="housing_type.*twice"):
        load_instrument(2025, root2)


def test_reserved_code_and_unknown_outcome_are_refused(tmp_path):
    root = _copy_bank(tmp_path)
    _edit(
        root / "2025" / "background.yaml",
        lambda d: d["items"][1]["choices"].append({"code": 98, "da": "Andet", "en": "Other"}),
    )
    with pytest.raises(InstrumentError, match="reserved"):
        load_instrument(2025, root)
    root2 = _copy_bank(tmp_path / "b")
    _edit(
        root2 / "2025" / "tryghed.yaml",
        lambda d: d["items"][1].update(measures=[{"outcome": "risk", "positive": [1]}]),
    )
    with pytest.raises(InstrumentError, match="unknown outcome 'risk'"):
        load_instrument(2025, root2)


def test_unknown_year_says_which_exist(tmp_path):
    with pytest.raises(InstrumentError, match="available years: 2024, 2025"):
        load_instrument(2019)


def test_information_page_must_be_bilingual(tmp_path):
    root = _copy_bank(tmp_path)
    _edit(
        root / "2025" / "instrument.yaml",
        lambda d: d["pages"]["privacy"]["paragraphs"][2].pop("en"),
    )
    with pytest.raises(InstrumentError, match="pages.privacy paragraph 3.*en text is missing"):
        load_instrument(2025, root)
