"""Load and validate the versioned item bank of the citizen questionnaire.

The bank is human-edited YAML under ``survey_instruments/borgerundersoegelse/<year>/``:
``instrument.yaml`` (title, group order, special codes, derived outcomes, pages,
changelog), ``scales.yaml`` (shared answer scales) and one file per item group.
Loading turns it into frozen objects and refuses anything a renderer or the
response schema could not handle, with a message naming the file and item.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from botrygt_eval.errors import InstrumentError
from botrygt_eval.text import yamlfile

LANGUAGES = ("da", "en")
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}
OUTCOME_KINDS = ("indicator", "count")
OUTCOME_USES = ("trend", "did", "kpi")
CHANGE_KINDS = ("added", "removed", "reworded", "recoded", "routing", "outcome")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Choice:
    """One answer option: numeric code and its label per language."""

    code: int
    label: dict[str, str]


@dataclass(frozen=True)
class Condition:
    """``item`` answered with one of ``codes``."""

    item: str
    codes: tuple[int, ...]


@dataclass(frozen=True)
class Routing:
    """Shown only if any (``mode='any'``) or all (``'all'``) conditions hold."""

    mode: str
    conditions: tuple[Condition, ...]

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(c.item for c in self.conditions)


@dataclass(frozen=True)
class Measure:
    """An item feeds a derived outcome; ``positive`` codes count as 1."""

    outcome: str
    positive: tuple[int, ...]


@dataclass(frozen=True)
class Item:
    """One question of the questionnaire (one column of the response file)."""

    id: str
    group: str
    topic: str
    construct: str
    text: dict[str, str]
    hint: dict[str, str] | None
    scale: str | None  # name of the shared scale, None if the item has its own choices
    choices: tuple[Choice, ...]  # substantive answers (without 98/99)
    relevant: Routing | None
    required: bool
    measures: tuple[Measure, ...]
    source: str

    @property
    def list_name(self) -> str:
        """Name of the choice list in the XLSForm (shared scale or the item's own)."""
        return self.scale or self.id

    @property
    def substantive_codes(self) -> tuple[int, ...]:
        return tuple(c.code for c in self.choices)


@dataclass(frozen=True)
class Outcome:
    """A derived outcome defined by the items that measure it."""

    name: str
    kind: str
    label: dict[str, str]
    used_in: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """A page / section of the questionnaire."""

    name: str
    title: dict[str, str]
    intro: dict[str, str] | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ChangeRecord:
    """One recorded change against the previous year's version."""

    item: str
    change: str
    note: str


@dataclass(frozen=True)
class Instrument:
    """One year's version of the questionnaire."""

    name: str
    year: int
    version: str
    previous_year: int | None
    title: dict[str, str]
    groups: tuple[Group, ...]
    special: tuple[Choice, ...]
    outcomes: dict[str, Outcome]
    pages: dict
    changelog: tuple[ChangeRecord, ...]
    path: Path

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for group in self.groups for item in group.items)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InstrumentError(
            f"item {item_id!r} is not in the {self.year} questionnaire; "
            f"its items are {', '.join(self.item_ids)}"
        )

    @property
    def special_codes(self) -> tuple[int, ...]:
        return tuple(c.code for c in self.special)

    def allowed_codes(self, item_id: str) -> tuple[int, ...]:
        """Every code a response may hold for ``item_id`` (substantive, then 98/99)."""
        return self.item(item_id).substantive_codes + self.special_codes

    def all_choices(self, item_id: str) -> tuple[Choice, ...]:
        return self.item(item_id).choices + self.special

    def number(self, item_id: str) -> int:
        """1-based question number as printed in the questionnaire."""
        return self.item_ids.index(item_id) + 1


def default_root() -> Path:
    """Where the item bank lives: ``$BOTRYGT_INSTRUMENTS`` or the repository's folder."""
    env = os.environ.get("BOTRYGT_INSTRUMENTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "survey_instruments" / "borgerundersoegelse"


def available_years(root: str | Path | None = None) -> tuple[int, ...]:
    """Years for which a version of the questionnaire exists."""
    root = Path(root) if root is not None else default_root()
    if not root.is_dir():
        return ()
    return tuple(sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and p.is_dir()))


def _read_yaml(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as fh:
            return yamlfile.safe_load(fh)
    except FileNotFoundError:
        raise InstrumentError(
            f"{path} is missing; every group listed in instrument.yaml needs a file"
        ) from None
    except yaml.YAMLError as exc:
        raise InstrumentError(f"{path} is not valid YAML: {exc}") from None


def _texts(value: object, where: str, *, required: bool = True) -> dict[str, str] | None:
    """A {da, en} text; both languages must be present and non-empty."""
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise InstrumentError(f"{where}: expected a text with 'da' and 'en', got {value!r}")
    missing = [lang for lang in LANGUAGES if not str(value.get(lang) or "").strip()]
    if missing:
        raise InstrumentError(
            f"{where}: the {', '.join(missing)} text is missing; give the text in both da and en"
        )
    return {lang: str(value[lang]).strip() for lang in LANGUAGES}


def _choices(raw: object, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise InstrumentError(f"{where}: expected a non-empty list of {{code, da, en}}")
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), int):
            raise InstrumentError(f"{where}: every answer needs an integer 'code', got {entry!r}")
        out.append(Choice(entry["code"], _texts(entry, f"{where} code {entry['code']}")))
    codes = [c.code for c in out]
    if len(set(codes)) != len(codes):
        raise InstrumentError(f"{where}: answer codes {codes} are not unique")
    return tuple(out)


def _routing(raw: object, where: str) -> Routing | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("any", "all"):
        raise InstrumentError(
            f"{where}: 'relevant' must be {{any: [...]}} or {{all: [...]}} "
            "with entries {item: ID, in: [codes]}"
        )
    mode, conds = next(iter(raw.items()))
    parsed = []
    for cond in conds or []:
        if not isinstance(cond, dict) or "item" not in cond or "in" not in cond:
            raise InstrumentError(f"{where}: routing entry {cond!r} needs 'item' and 'in'")
        parsed.append(Condition(str(cond["item"]), tuple(int(c) for c in cond["in"])))
    if not parsed:
        raise InstrumentError(f"{where}: routing has no conditions")
    return Routing(mode, tuple(parsed))


def _item(raw: dict, group: str, scales: dict, path: Path) -> Item:
    where = f"{path.name}: item {raw.get('id')!r}"
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not _ID.match(item_id):
        raise InstrumentError(f"{where}: 'id' must be snake_case (letters, digits, _)")
    for key in ("topic", "construct", "source"):
        if not str(raw.get(key) or "").strip():
            raise InstrumentError(f"{where}: '{key}' is missing")
    scale = raw.get("scale")
    if (scale is None) == (raw.get("choices") is None):
        raise InstrumentError(
            f"{where}: give exactly one of 'scale' (a name in scales.yaml) or 'choices'"
        )
    if scale is not None:
        if scale not in scales:
            raise InstrumentError(
                f"{where}: scale {scale!r} is not in scales.yaml (known: {', '.join(scales)})"
            )
        choices = scales[scale]
    else:
        choices = _choices(raw["choices"], where)
    measures = tuple(
        Measure(str(m["outcome"]), tuple(int(c) for c in m.get("positive", ())))
        for m in raw.get("measures") or ()
    )
    return Item(
        id=item_id,
        group=group,
        topic=str(raw["topic"]),
        construct=str(raw["construct"]),
        text=_texts(raw.get("text"), f"{where} text"),
        hint=_texts(raw.get("hint"), f"{where} hint", required=False),
        scale=scale,
        choices=choices,
        relevant=_routing(raw.get("relevant"), where),
        required=bool(raw.get("required", False)),
        measures=measures,
        source=str(raw["source"]).strip(),
    )


def _validate(inst: Instrument) -> None:
    """Cross-item rules: unique ids, routing backwards only, outcomes defined and fed."""
    seen: dict[str, Item] = {}
    specials = set(inst.special_codes)
    for item in inst.items:
        where = f"{inst.year}: item {item.id!r}"
        if item.id in seen:
            raise InstrumentError(
                f"{where} appears twice (groups {seen[item.id].group!r} and {item.group!r}); ids must be unique"
            )
        clash = specials & set(item.substantive_codes)
        if clash:
            raise InstrumentError(
                f"{where}: codes {sorted(clash)} are reserved for Ved ikke / Ønsker ikke at svare"
            )
        if item.relevant is not None:
            for cond in item.relevant.conditions:
                if cond.item not in seen:
                    later = cond.item in inst.item_ids
                    raise InstrumentError(
                        f"{where}: routing refers to {cond.item!r}, which "
                        + (
                            "comes later; routing may only refer to earlier items"
                            if later
                            else "does not exist"
                        )
                    )
                bad = set(cond.codes) - set(seen[cond.item].substantive_codes) - specials
                if bad:
                    raise InstrumentError(
                        f"{where}: routing uses codes {sorted(bad)} that {cond.item!r} does not have"
                    )
        for m in item.measures:
            if m.outcome not in inst.outcomes:
                raise InstrumentError(
                    f"{where}: measures unknown outcome {m.outcome!r}; define it under 'outcomes' in instrument.yaml"
                )
            bad = set(m.positive) - set(item.substantive_codes)
            if not m.positive or bad:
                raise InstrumentError(
                    f"{where}: positive codes {list(m.positive)} for {m.outcome!r} must be answer codes of the item"
                )
        seen[item.id] = item
    for name, outcome in inst.outcomes.items():
        feeders = [i.id for i in inst.items if any(m.outcome == name for m in i.measures)]
        if not feeders:
            raise InstrumentError(f"{inst.year}: outcome {name!r} is measured by no item")
        if outcome.kind == "indicator" and len(feeders) != 1:
            raise InstrumentError(
                f"{inst.year}: indicator outcome {name!r} must be measured by exactly one item, found {feeders}"
            )
    for page in ("privacy", "closing"):
        raw = inst.pages.get(page)
        if not isinstance(raw, dict) or not raw.get("paragraphs"):
            raise InstrumentError(
                f"{inst.year}: instrument.yaml needs pages.{page} with a title and paragraphs"
            )
        _texts(raw.get("title"), f"pages.{page} title")
        for k, para in enumerate(raw["paragraphs"], start=1):
            _texts(para, f"pages.{page} paragraph {k}")
            for entry in para.get("list") or ():
                _texts(entry, f"pages.{page} paragraph {k} list")
    for rec in inst.changelog:
        if rec.change not in CHANGE_KINDS:
            raise InstrumentError(
                f"{inst.year}: changelog entry for {rec.item!r} has change {rec.change!r}; use one of {', '.join(CHANGE_KINDS)}"
            )


def _load(folder: Path) -> Instrument:
    meta = _read_yaml(folder / "instrument.yaml")
    if not isinstance(meta, dict):
        raise InstrumentError(f"{folder / 'instrument.yaml'} must be a mapping")
    raw_scales = _read_yaml(folder / "scales.yaml") or {}
    scales = {name: _choices(ch, f"scales.yaml: {name}") for name, ch in raw_scales.items()}
    groups = []
    for gname in meta.get("groups") or []:
        path = folder / f"{gname}.yaml"
        graw = _read_yaml(path)
        if not isinstance(graw, dict) or not graw.get("items"):
            raise InstrumentError(f"{path}: expected 'group', 'title' and a non-empty 'items' list")
        items = tuple(_item(r, gname, scales, path) for r in graw["items"])
        groups.append(
            Group(
                gname,
                _texts(graw.get("title"), f"{path.name} title"),
                _texts(graw.get("intro"), f"{path.name} intro", required=False),
                items,
            )
        )
    if not groups:
        raise InstrumentError(f"{folder / 'instrument.yaml'}: 'groups' lists no item groups")
    outcomes = {}
    for name, o in (meta.get("outcomes") or {}).items():
        kind = o.get("kind")
        uses = tuple(o.get("used_in") or ())
        if kind not in OUTCOME_KINDS or set(uses) - set(OUTCOME_USES):
            raise InstrumentError(
                f"instrument.yaml: outcome {name!r} needs kind in {OUTCOME_KINDS} and used_in within {OUTCOME_USES}"
            )
        outcomes[name] = Outcome(name, kind, _texts(o.get("label"), f"outcome {name}"), uses)
    changelog = tuple(
        ChangeRecord(str(c.get("item")), str(c.get("change")), str(c.get("note", "")).strip())
        for c in meta.get("changelog") or ()
    )
    inst = Instrument(
        name=str(meta.get("instrument", "borgerundersoegelse")),
        year=int(meta["year"]),
        version=str(meta.get("version", meta["year"])),
        previous_year=meta.get("previous_year"),
        title=_texts(meta.get("title"), "instrument.yaml title"),
        groups=tuple(groups),
        special=_choices(meta.get("special_codes"), "instrument.yaml special_codes"),
        outcomes=outcomes,
        pages=meta.get("pages") or {},
        changelog=changelog,
        path=folder,
    )
    if inst.year != int(folder.name):
        raise InstrumentError(
            f"{folder}/instrument.yaml says year {inst.year}; it must match its folder"
        )
    _validate(inst)
    return inst


@lru_cache(maxsize=16)
def _load_cached(folder: str, stamp: tuple) -> Instrument:
    return _load(Path(folder))


def load_instrument(year: int, root: str | Path | None = None) -> Instrument:
    """The questionnaire of ``year`` from the item bank (validated, cached per file state)."""
    root = Path(root) if root is not None else default_root()
    folder = root / str(int(year))
    if not folder.is_dir():
        years = ", ".join(map(str, available_years(root))) or "none"
        raise InstrumentError(
            f"no questionnaire for {year} in {root} (available years: {years}); "
            f"copy the latest year's folder to {folder} and record the changes in its changelog"
        )
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.yaml")))
    return _load_cached(str(folder.resolve()), stamp)


def as_instrument(
    year_or_instrument: int | Instrument, root: str | Path | None = None
) -> Instrument:
    """Accept a year or an already loaded instrument."""
    if isinstance(year_or_instrument, Instrument):
        return year_or_instrument
    return load_instrument(int(year_or_instrument), root)
