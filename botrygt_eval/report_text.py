"""Display text of the reports in Danish and English, and numbers written per language.

One catalogue, :data:`TEXT`, maps a message id to its Danish and English text;
:func:`t` looks one up and fills its ``{placeholders}``. Danish is the default and the
language municipalities read; English is for evaluators and international readers.
Identifiers (column names of the CSV tables, activity verdict codes, file names) stay
as they are: only what a reader sees is translated.

Adding text to a report: add an id here with both languages (a test checks every id has
both, with the same placeholders), then ``t("my.id", lang, n=...)`` in the notebook.
Numbers go through :func:`num`, :func:`percent` or :func:`date` first, so they are
written the reader's way ("1.234,5" in Danish, "1,234.5" in English).

Message ids are grouped by prefix: ``common.`` (every report), ``col.<column>`` (table
headers, see :func:`cols`), ``outcome.``/``activity.``/``estimator.``/... (labels of
codes, see :func:`label`), ``fig.`` (chart labels) and one prefix per report
(``national.``, ``kommune.``, ``activities.``, ``review.``).
"""

from __future__ import annotations

import datetime as _dt
import math
import string

from botrygt_eval.errors import ReportError, check_option

LANGS: tuple[str, ...] = ("da", "en")

_MONTHS = {
    "da": ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip


def check_lang(lang: str) -> str:
    """Refuse a language other than ``da`` or ``en`` (listing both)."""
    check_option("lang", lang, LANGS)
    return lang


# --------------------------------------------------------------------------- numbers
def num(x: float | None, lang: str = "da", digits: int = 1) -> str:
    """``1234.5`` as ``1.234,5`` (da) or ``1,234.5`` (en); missing as ``–``."""
    check_lang(lang)
    if x is None or not math.isfinite(float(x)):
        return "–"
    text = f"{float(x):,.{digits}f}"  # 1,234.5
    if lang == "da":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def percent(x: float | None, lang: str = "da", digits: int = 1) -> str:
    """A percentage already on the 0-100 scale: ``12,3 %`` (da) or ``12.3%`` (en)."""
    text = num(x, lang, digits)
    if text == "–":
        return text
    return f"{text} %" if lang == "da" else f"{text}%"


def date(d, lang: str = "da") -> str:
    """A date as ``5. marts 2019`` (da) or ``5 March 2019`` (en)."""
    check_lang(lang)
    if isinstance(d, str):
        d = _dt.date.fromisoformat(d[:10])
    month = _MONTHS[lang][d.month - 1]
    return f"{d.day}. {month} {d.year}" if lang == "da" else f"{d.day} {month} {d.year}"


# --------------------------------------------------------------------------- lookup
def t(key: str, lang: str = "da", **fmt) -> str:
    """The text of message ``key`` in ``lang``, with ``{placeholders}`` filled from ``fmt``."""
    check_lang(lang)
    try:
        text = TEXT[key][lang]
    except KeyError:
        raise ReportError(
            f"no report text {key!r}: add it to botrygt_eval/report_text.py TEXT "
            "with both 'da' and 'en'"
        ) from None
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    """Whether the catalogue has message ``key``."""
    return key in TEXT


def label(group: str, code: str, lang: str = "da") -> str:
    """The display label of a code (``label("outcome", "fear_burglary", "en")``).

    Falls back to the code itself when the catalogue has no label for it (a new
    activity type still shows, under its code).
    """
    key = f"{group}.{code}"
    return t(key, lang) if key in TEXT else str(code)


def labels(group: str, lang: str = "da") -> dict[str, str]:
    """Every ``code: label`` of a group (for ``Series.map``)."""
    check_lang(lang)
    prefix = f"{group}."
    return {k[len(prefix) :]: v[lang] for k, v in TEXT.items() if k.startswith(prefix)}


def cols(lang: str, *names: str, **special: str) -> dict[str, str]:
    """Table headers for ``show_table``: column name → the text of ``col.<name>``.

    ``special`` maps a column to another message id where a column needs a header
    of its own in one table (``cols(lang, "maal", n="col.n_activities")``).
    """
    return {name: t(special.get(name, f"col.{name}"), lang)
            for name in dict.fromkeys([*names, *special])}  # fmt: skip


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text expects (for the catalogue's consistency test)."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


# --------------------------------------------------------------------------- catalogue
TEXT: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ common
    "common.banner": {"da": "SIMULEREDE DATA: ikke virkelige tal",
                      "en": "SIMULATED DATA: not real figures"},
    "common.simulated_note": {
        "da": "**SIMULEREDE DATA**: tallene i denne rapport er lavet af en simuleret kopi af "
              "Danmark og siger intet om virkelige kommuner.",
        "en": "**SIMULATED DATA**: the figures in this report come from a simulated copy of "
              "Denmark and say nothing about real municipalities."},
    "common.suppressed": {"da": "undertrykt (for få svar)", "en": "suppressed (too few responses)"},
    "common.suppressed_short": {"da": "undertrykt", "en": "suppressed"},
    "common.interval": {"da": "{est} (95 %-KI {lo} til {hi})", "en": "{est} (95% CI {lo} to {hi})"},
    "common.figure_alt": {"da": "Figur: {name}", "en": "Figure: {name}"},
    "common.none": {"da": "ingen", "en": "none"},
    "common.provenance": {"da": "Dokumentation (proveniens)", "en": "Documentation (provenance)"},
    "common.methods": {"da": "Metode", "en": "Methods"},
    "common.in_short": {"da": "Kort fortalt", "en": "In short"},
    "common.whole_country": {"da": "Hele landet", "en": "Whole country"},
    # ------------------------------------------------------------------ report titles
    "title.national": {"da": "Bo trygt: national evaluering", "en": "Bo trygt: national evaluation"},
    "title.kommune": {"da": "Bo trygt: kommunerapport", "en": "Bo trygt: municipality report"},
    "title.activities": {"da": "Bo trygt: aktiviteter", "en": "Bo trygt: activities"},
    "title.learning-review": {"da": "Bo trygt: læringsreview", "en": "Bo trygt: learning review"},
    # ------------------------------------------------------------------ labels of codes
    "outcome.fear_burglary": {"da": "Bekymret for indbrud", "en": "Worried about burglary"},
    "outcome.unsafe_home": {"da": "Utryg hjemme efter mørkets frembrud",
                            "en": "Feels unsafe at home after dark"},
    "outcome.nabohjaelper": {"da": "Tilmeldt Nabohjælp",
                             "en": "Signed up to Nabohjælp (neighbourhood watch)"},
    "outcome.prevention_index": {"da": "Antal forebyggelsesråd fulgt (0-5)",
                                 "en": "Prevention tips followed (0-5)"},
    "outcome.victim_burglary": {"da": "Udsat for indbrud (12 mdr.)",
                                "en": "Burglary victim (12 months)"},
    "unit.share": {"da": "% af voksne", "en": "% of adults"},
    "unit.tips": {"da": "antal råd", "en": "tips"},
    "unit.pct_change": {"da": "% ændring", "en": "% change"},
    "unit.pp": {"da": "procentpoint", "en": "percentage points"},
    "activity.kampagne": {"da": "Kampagne", "en": "Campaign"},
    "activity.tryghedsvandring": {"da": "Tryghedsvandring", "en": "Safety walk"},
    "activity.borgermoede": {"da": "Borgermøde", "en": "Public meeting"},
    "activity.nabohjaelp_rekruttering": {"da": "Rekruttering til Nabohjælp",
                                         "en": "Nabohjælp recruitment"},
    "activity.bo_trygt_korps": {"da": "Bo trygt-korps", "en": "Bo trygt corps"},
    "activity.reaktionsplan": {"da": "Reaktionsplan", "en": "Response plan"},
    "activity.data_gis": {"da": "Data og kort", "en": "Data and maps"},
    "activity.lokalt_arrangement": {"da": "Lokalt arrangement", "en": "Local event"},
    "activity.mobil_politistation": {"da": "Mobil politistation", "en": "Mobile police station"},
    "activity.erhvervssamarbejde": {"da": "Erhvervssamarbejde", "en": "Business partnership"},
    "activity.andet": {"da": "Andet", "en": "Other"},
    "effect_outcome.log_rate": {"da": "Indbrud pr. husstand (log)",
                                "en": "Burglaries per household (log)"},
    "effect_outcome.burglaries": {"da": "Antal indbrud (log-rate)",
                                  "en": "Number of burglaries (log rate)"},
    "effect_outcome.fear_burglary": {"da": "Bekymret for indbrud (andel)",
                                     "en": "Worried about burglary (share)"},
    "effect_outcome.nabohjaelper": {"da": "Tilmeldt Nabohjælp (andel)",
                                    "en": "Signed up to Nabohjælp (share)"},
    "estimator.TWFE": {"da": "To-vejs fixed effects (TWFE)", "en": "Two-way fixed effects (TWFE)"},
    "estimator.Callaway-Sant'Anna (not yet treated)": {
        "da": "Callaway-Sant'Anna (endnu ikke behandlede som kontrol)",
        "en": "Callaway-Sant'Anna (not-yet-treated as controls)"},
    "estimator.PPML (households offset)": {"da": "Poisson (PPML, husstande som offset)",
                                           "en": "Poisson (PPML, households as offset)"},
    "estimator.Callaway-Sant'Anna on kommune-year survey estimates": {
        "da": "Callaway-Sant'Anna på kommunernes årsskøn",
        "en": "Callaway-Sant'Anna on the municipalities' annual estimates"},
    "bacon.treated_vs_untreated": {"da": "Partnerskab mod aldrig partnerskab",
                                   "en": "Partnership vs never partnership"},
    "bacon.earlier_vs_later_treated": {"da": "Tidligt mod senere partnerskab",
                                       "en": "Earlier vs later partnership"},
    "bacon.later_vs_earlier_treated": {"da": "Sent mod tidligere partnerskab (problematisk)",
                                       "en": "Later vs earlier partnership (problematic)"},
    "synth.sdid": {"da": "Syntetisk difference-in-differences",
                   "en": "Synthetic difference-in-differences"},
    "synth.sc": {"da": "Syntetisk kontrolgruppe", "en": "Synthetic control"},
    "synth.did": {"da": "Difference-in-differences (alle kommuner uden partnerskab)",
                  "en": "Difference-in-differences (all municipalities without a partnership)"},
    "verdict.repeat": {"da": "gentag", "en": "repeat"},
    "verdict.change": {"da": "ændr", "en": "change"},
    "verdict.drop": {"da": "drop", "en": "drop"},
    "verdict.insufficient": {"da": "utilstrækkelig evidens", "en": "insufficient evidence"},
    "group.partnership": {"da": "Partnerskabskommuner", "en": "Partnership municipalities"},
    "group.other": {"da": "Øvrige kommuner", "en": "Other municipalities"},
    "group.district_rest": {"da": "{district} (øvrige kommuner)",
                            "en": "{district} (other municipalities)"},
    "group.similar": {"da": "Lignende kommuner (antal husstande)",
                      "en": "Similar municipalities (households)"},
    # ------------------------------------------------------------------ chart labels
    "fig.year": {"da": "År", "en": "Year"},
    "fig.burglary_rate": {"da": "Anmeldte indbrud pr. 1.000 husstande",
                          "en": "Reported burglaries per 1,000 households"},
    "fig.share_ci": {"da": "Andel af voksne (%), 95 %-konfidensinterval",
                     "en": "Share of adults (%), 95% confidence interval"},
    "fig.district_x": {"da": "{label} (%), 95 %-konfidensinterval",
                       "en": "{label} (%), 95% confidence interval"},
    "fig.n_activities": {"da": "Antal aktiviteter", "en": "Number of activities"},
    "fig.reach_thousands": {"da": "Personer/husstande nået (1.000)",
                            "en": "People/households reached (1,000)"},
    # ------------------------------------------------------------------ table headers
    "col.maal": {"da": "Mål", "en": "Outcome"},
    "col.enhed": {"da": "Enhed", "en": "Unit"},
    "col.estimate": {"da": "Skøn", "en": "Estimate"},
    "col.ci_low": {"da": "95 %-KI fra", "en": "95% CI from"},
    "col.ci_high": {"da": "95 %-KI til", "en": "95% CI to"},
    "col.n": {"da": "Antal svar", "en": "Responses"},
    "col.metode": {"da": "Metode", "en": "Method"},
    "col.estimate_pct": {"da": "Effekt", "en": "Effect"},
    "col.ci_low_pct": {"da": "95 %-KI fra", "en": "95% CI from"},
    "col.ci_high_pct": {"da": "95 %-KI til", "en": "95% CI to"},
    "col.n_units": {"da": "Kommuner", "en": "Municipalities"},
    "col.n_obs": {"da": "Observationer", "en": "Observations"},
    "col.sammenligning": {"da": "Sammenligning i TWFE", "en": "Comparison in TWFE"},
    "col.weight": {"da": "Vægt", "en": "Weight"},
    "col.kommune": {"da": "Kommune", "en": "Municipality"},
    "col.basisaar": {"da": "Basisår", "en": "Baseline year"},
    "col.seneste_aar": {"da": "Seneste år", "en": "Latest year"},
    "col.indbrud_aendring_pct": {"da": "Indbrud, ændring %", "en": "Burglary, change %"},
    "col.indbrud_maal_pct": {"da": "Indbrud, mål %", "en": "Burglary, target %"},
    "col.nabohjaelp_medlemmer": {"da": "Nabohjælp", "en": "Nabohjælp members"},
    "col.nabohjaelp_maal": {"da": "Nabohjælp, mål", "en": "Nabohjælp, target"},
    "col.bekymrede_pct": {"da": "Bekymrede %", "en": "Worried %"},
    "col.bekymrede_n": {"da": "Antal svar", "en": "Responses"},
    "col.bekymrede_maal_pct": {"da": "Bekymrede, mål %", "en": "Worried, target %"},
    "col.felt": {"da": "Felt", "en": "Field"},
    "col.vaerdi": {"da": "Værdi", "en": "Value"},
    "col.fil": {"da": "Inputfil", "en": "Input file"},
    "col.sha256": {"da": "SHA-256", "en": "SHA-256"},
    "col.bytes": {"da": "Bytes", "en": "Bytes"},
    "col.year": {"da": "År", "en": "Year"},
    "col.aktivitet": {"da": "Aktivitet", "en": "Activity"},
    "col.antal": {"da": "Antal", "en": "Number"},
    "col.reach": {"da": "Nået", "en": "Reached"},
    "col.n_reach": {"da": "Med rækkevidde", "en": "With reach"},
    "col.cost_dkk": {"da": "Udgift (kr.)", "en": "Cost (DKK)"},
    "col.n_cost": {"da": "Med udgift", "en": "With cost"},
    "col.kr_pr_naaet": {"da": "Kr. pr. nået", "en": "DKK per person reached"},
    "col.effekt_pct": {"da": "Effekt på indbrud, %", "en": "Effect on burglary, %"},
    "col.sim_ci_low_pct": {"da": "Samtidigt 95 %-KI fra", "en": "Simultaneous 95% CI from"},
    "col.sim_ci_high_pct": {"da": "Samtidigt 95 %-KI til", "en": "Simultaneous 95% CI to"},
    "col.ki_fra_pct": {"da": "95 %-KI fra", "en": "95% CI from"},
    "col.ki_til_pct": {"da": "95 %-KI til", "en": "95% CI to"},
    "col.foer_rmse": {"da": "Tilpasning før start (RMSE, log)", "en": "Pre-start fit (RMSE, log)"},
    # ------------------------------------------------------------------ national report
    "national.h_results": {"da": "Hovedresultater", "en": "Main results"},
    "national.n_partnerships": {
        "da": "**{n} kommuner** har indgået et Bo trygt-partnerskab med politiet.",
        "en": "**{n} municipalities** have signed a Bo trygt partnership with the police."},
    "national.burglary_effect": {
        "da": "Efter partnerskabets start ændrede antallet af anmeldte indbrud i boliger sig med "
              "**{est} %** i forhold til, hvad man ville forvente uden partnerskab "
              "(95 %-konfidensinterval {lo} til {hi} %; {n} kommuner, Callaway-Sant'Anna).",
        "en": "After a partnership started, the number of reported residential burglaries "
              "changed by **{est}%** compared with what would be expected without a partnership "
              "(95% confidence interval {lo} to {hi}%; {n} municipalities, Callaway-Sant'Anna)."},
    "national.fear_effect": {
        "da": "Andelen, der er bekymrede for indbrud, ændrede sig med **{est} procentpoint** "
              "(95 %-KI {lo} til {hi}; {n} kommuner).",
        "en": "The share of adults worried about burglary changed by **{est} percentage points** "
              "(95% CI {lo} to {hi}; {n} municipalities)."},
    "national.fear_level": {
        "da": "I {year} var **{est} %** af de voksne bekymrede for indbrud "
              "(95 %-KI {lo} til {hi} %; {n} svar).",
        "en": "In {year}, **{est}%** of adults were worried about burglary "
              "(95% CI {lo} to {hi}%; {n} responses)."},
    "national.ci_zero": {
        "da": "Et konfidensinterval, der indeholder 0, betyder, at data ikke kan skelne effekten "
              "fra ingen effekt.",
        "en": "A confidence interval that contains 0 means the data cannot tell the effect "
              "apart from no effect."},
    "national.h_burglary": {"da": "Indbrud i partnerskabskommuner og øvrige kommuner",
                            "en": "Burglary in partnership and other municipalities"},
    "national.fig_burglary": {"da": "Anmeldte indbrud i boliger pr. 1.000 husstande",
                              "en": "Reported residential burglaries per 1,000 households"},
    "national.h_effects": {"da": "Partnerskabernes effekt (difference-in-differences)",
                           "en": "The partnerships' effect (difference-in-differences)"},
    "national.effects_intro": {
        "da": "Hver række er én metode. For indbrud er effekten omregnet til procent ændring i "
              "antal indbrud; for spørgeskemaet er den i procentpoint. Alle med 95 "
              "%-konfidensinterval.",
        "en": "Each row is one method. For burglary the effect is converted to a percentage "
              "change in the number of burglaries; for the questionnaire it is in percentage "
              "points. All with 95% confidence intervals."},
    "national.fig_event_study": {
        "da": "Indbrud pr. 1.000 husstande før og efter partnerskabets start (TWFE)",
        "en": "Burglaries per 1,000 households before and after the partnership started (TWFE)"},
    "national.h_survey": {"da": "Tryghed og forebyggelse (borgerundersøgelsen, vægtet)",
                          "en": "Feeling safe and prevention (citizen survey, weighted)"},
    "national.fig_survey": {"da": "Borgerundersøgelsen, hele landet",
                            "en": "Citizen survey, whole country"},
    "national.h_robustness": {"da": "Robusthed", "en": "Robustness"},
    "national.robustness_intro": {
        "da": "Holder resultatet, når forudsætningerne udfordres? Parallelle forløb før start "
              "(pre-trend-test), hvilke sammenligninger TWFE bygger på (Bacon-dekomposition), en "
              "permutationstest uden fordelingsantagelser, og hvor store brud på parallelle "
              "forløb resultatet tåler (følsomhedsanalyse).",
        "en": "Does the result hold when its assumptions are challenged? Parallel trends before "
              "the start (pre-trend test), which comparisons TWFE rests on (Bacon "
              "decomposition), a permutation test without distributional assumptions, and how "
              "large a violation of parallel trends the result tolerates (sensitivity analysis)."},
    "national.pretrend": {
        "da": "Pre-trend-test (alle perioder før start = 0): χ²({df}) = {stat}, p = {p}. En høj "
              "p-værdi er svag evidens for parallelle forløb.",
        "en": "Pre-trend test (all periods before the start = 0): χ²({df}) = {stat}, p = {p}. A "
              "high p-value is weak evidence of parallel trends."},
    "national.permutation": {
        "da": "Permutationstest (499 tilfældige omfordelinger af starttidspunkter, seed {seed}): "
              "p = {p}.",
        "en": "Permutation test (499 random reassignments of start dates, seed {seed}): "
              "p = {p}."},
    "national.balanced": {
        "da": "Bacon-dekomposition og permutationstest bruger de {n} kommuner med data i alle "
              "kvartaler (udeladt: {dropped}).",
        "en": "The Bacon decomposition and the permutation test use the {n} municipalities with "
              "data in every quarter (left out: {dropped})."},
    "national.h_targets": {"da": "Fremdrift mod partnerskabernes mål",
                           "en": "Progress towards the partnerships' targets"},
    "national.targets_met": {
        "da": "{met} af {n} partnerskaber har nået deres mål for færre indbrud (ændring fra "
              "basisåret til seneste år).",
        "en": "{met} of {n} partnerships have met their target for fewer burglaries (change "
              "from the baseline year to the latest year)."},
    "national.methods": {
        "da": "- **Indbrud**: anmeldte indbrud i boliger (Danmarks Statistik, STRAF11) pr. 1.000 "
              "husstande (FAM55N), kommune × kvartal. En kommune regnes som behandlet fra første "
              "hele kvartal efter underskrift.\n"
              "- **Effekter**: Callaway-Sant'Anna (endnu ikke behandlede kommuner som kontrol, "
              "doubly robust), to-vejs fixed effects (TWFE) og Poisson (PPML) med husstande som "
              "offset; standardfejl klynget på kommune (for Callaway-Sant'Anna ved jackknife: "
              "beregningen gentages med én kommune udeladt ad gangen). Spørgeskemaets effekter: "
              "Callaway-Sant'Anna på kommunernes vægtede årsskøn.\n"
              "- **Borgerundersøgelsen**: designvægte kalibreret (raking) til befolkningen efter "
              "kommune, køn og alder; designbaserede standardfejl der tager højde for "
              "kalibreringen. Celler med færre end 10 svar vises ikke.\n"
              "- **Robusthed**: Wald-test af perioderne før start, Goodman-Bacon-dekomposition, "
              "permutationstest (Fisher) og Rambachan-Roth-grænser (relative størrelser).",
        "en": "- **Burglary**: reported residential burglaries (Statistics Denmark, STRAF11) per "
              "1,000 households (FAM55N), municipality × quarter. A municipality counts as "
              "treated from the first full quarter after signing.\n"
              "- **Effects**: Callaway-Sant'Anna (not-yet-treated municipalities as controls, "
              "doubly robust), two-way fixed effects (TWFE) and Poisson (PPML) with households "
              "as offset; standard errors clustered by municipality (for Callaway-Sant'Anna by "
              "the jackknife: the estimate is repeated leaving out one municipality at a time). "
              "Questionnaire effects: "
              "Callaway-Sant'Anna on the municipalities' weighted annual estimates.\n"
              "- **Citizen survey**: design weights calibrated (raking) to the population by "
              "municipality, sex and age; design-based standard errors that account for the "
              "calibration. Cells with fewer than 10 responses are not shown.\n"
              "- **Robustness**: Wald test of the periods before the start, Goodman-Bacon "
              "decomposition, permutation test (Fisher) and Rambachan-Roth bounds (relative "
              "magnitudes)."},
    # ------------------------------------------------------------------ kommune report
    "kommune.title": {"da": "Bo trygt: kommunerapport for {name} ({year})",
                      "en": "Bo trygt: municipality report for {name} ({year})"},
    "kommune.signed": {
        "da": "{name} indgik Bo trygt-partnerskab med {district} den {date}.",
        "en": "{name} signed a Bo trygt partnership with {district} on {date}."},
    "kommune.no_partnership": {
        "da": "{name} har ikke et Bo trygt-partnerskab i registeret.",
        "en": "{name} has no Bo trygt partnership in the register."},
    "kommune.burglaries": {
        "da": "I {year} blev der anmeldt **{n} indbrud** i boliger, {rate} pr. 1.000 husstande "
              "(i {first}: {first_rate}).",
        "en": "In {year}, **{n} residential burglaries** were reported, {rate} per 1,000 "
              "households (in {first}: {first_rate})."},
    "kommune.fear_suppressed": {
        "da": "Borgerundersøgelsen {year}: for få svar til at vise andelen af bekymrede.",
        "en": "Citizen survey {year}: too few responses to show the share worried."},
    "kommune.fear": {
        "da": "I borgerundersøgelsen {year} var **{est} %** bekymrede for indbrud "
              "(95 %-KI {lo} til {hi} %; {n} svar).",
        "en": "In the {year} citizen survey, **{est}%** were worried about burglary "
              "(95% CI {lo} to {hi}%; {n} responses)."},
    "kommune.h_burglary": {"da": "Indbrud sammenlignet med politikredsen og lignende kommuner",
                           "en": "Burglary compared with the police district and similar "
                                 "municipalities"},
    "kommune.similar_note": {
        "da": "\"Lignende kommuner\" er de fem kommuner, der har det nærmeste antal husstande.",
        "en": "\"Similar municipalities\" are the five municipalities closest in number of "
              "households."},
    "kommune.fig_burglary": {"da": "Anmeldte indbrud i boliger: {name}",
                             "en": "Reported residential burglaries: {name}"},
    "kommune.h_survey": {"da": "Borgerundersøgelsen", "en": "Citizen survey"},
    "kommune.survey_intro": {
        "da": "Vægtede skøn med 95 %-konfidensinterval. Tal bygget på færre end {min_cell} svar "
              "vises ikke.",
        "en": "Weighted estimates with 95% confidence intervals. Figures based on fewer than "
              "{min_cell} responses are not shown."},
    "kommune.fig_survey": {"da": "Borgerundersøgelsen: {name}", "en": "Citizen survey: {name}"},
    "kommune.fig_district": {"da": "Bekymrede for indbrud i {district}, {year}",
                             "en": "Worried about burglary in {district}, {year}"},
    "kommune.h_own_effect": {"da": "Gjorde partnerskabet en forskel her?",
                             "en": "Did the partnership make a difference here?"},
    "kommune.own_effect_intro": {
        "da": "Kommunen sammenlignes med en \"syntetisk\" udgave af sig selv: et vægtet "
              "gennemsnit af kommuner uden partnerskab, der fulgte kommunens indbrudstal før "
              "partnerskabet. Forskellen efter starten er skønnet over partnerskabets effekt. "
              "Intervallet kommer fra placebo-kørsler på kommunerne uden partnerskab; for én "
              "kommune er usikkerheden stor.",
        "en": "The municipality is compared with a \"synthetic\" version of itself: a weighted "
              "average of municipalities without a partnership that tracked its burglary rate "
              "before the partnership. The difference after the start is the estimate of the "
              "partnership's effect. The interval comes from placebo runs on the "
              "municipalities without a partnership; for a single municipality the uncertainty "
              "is large."},
    "kommune.synth_alt": {"da": "Kommunen og dens syntetiske sammenligning",
                          "en": "The municipality and its synthetic comparison"},
    "kommune.no_own_effect": {
        "da": "Kommunen har ingen partnerskabsaftale; her er ingen egen effekt at skønne.",
        "en": "The municipality has no partnership agreement; there is no own effect to "
              "estimate."},
    "kommune.h_targets": {"da": "Mål i partnerskabsaftalen",
                          "en": "Targets in the partnership agreement"},
    "kommune.no_targets": {"da": "Kommunen har ingen partnerskabsaftale og derfor ingen mål.",
                           "en": "The municipality has no partnership agreement and so no "
                                 "targets."},
    "kommune.h_activities": {"da": "Aktiviteter", "en": "Activities"},
    "kommune.no_activities": {
        "da": "Der er ingen aktiviteter i aktivitetsloggen for kommunen.",
        "en": "The activity log has no activities for the municipality."},
    "kommune.methods": {
        "da": "- Indbrud: anmeldte indbrud i boliger (STRAF10/11) pr. 1.000 husstande (FAM55N). "
              "Politikredsen og de lignende kommuner er lagt sammen (summen af indbrud over "
              "summen af husstande).\n"
              "- Borgerundersøgelsen: designvægte kalibreret til befolkningen (kommune, køn, "
              "alder), designbaserede standardfejl; celler med færre end {min_cell} svar er "
              "undertrykt.\n"
              "- Partnerskabets samlede effekt vurderes i den nationale rapport "
              "(difference-in-differences); én kommunes tal alene kan ikke skille effekten fra "
              "den generelle udvikling.",
        "en": "- Burglary: reported residential burglaries (STRAF10/11) per 1,000 households "
              "(FAM55N). The police district and the similar municipalities are pooled (sum of "
              "burglaries over sum of households).\n"
              "- Citizen survey: design weights calibrated to the population (municipality, "
              "sex, age), design-based standard errors; cells with fewer than {min_cell} "
              "responses are suppressed.\n"
              "- The partnerships' overall effect is assessed in the national report "
              "(difference-in-differences); one municipality's figures alone cannot separate "
              "the effect from the general trend."},
    # ------------------------------------------------------------------ charts of did/
    "fig.synth_treated": {"da": "Kommunen (behandlet)", "en": "The municipality (treated)"},
    "fig.synth_synthetic": {"da": "Syntetisk kommune", "en": "Synthetic municipality"},
    "fig.synth_band": {"da": "{level}% bånd", "en": "{level}% band"},
    "fig.synth_gap": {"da": "Forskel", "en": "Difference"},
    "fig.synth_start": {"da": "Partnerskab starter", "en": "Partnership starts"},
    "fig.synth_gap_axis": {"da": "Forskel (kommune - syntetisk)",
                           "en": "Difference (municipality - synthetic)"},
    "fig.es_before": {"da": "Før start", "en": "Before start"},
    "fig.es_after": {"da": "Efter start", "en": "After start"},
    "fig.es_ylabel": {"da": "Effekt i forhold til perioden før start",
                      "en": "Effect relative to the period before the start"},
    "fig.es_xlabel": {"da": "Perioder i forhold til partnerskabets start",
                      "en": "Periods relative to the partnership's start"},
    "fig.rate_ratio": {"da": "Rate-forhold", "en": "Rate ratio"},
    "fig.sens_ci": {"da": "Robust konfidensinterval", "en": "Robust confidence interval"},
    "fig.sens_id": {"da": "Identificeret mængde", "en": "Identified set"},
    "fig.sens_x": {"da": "M̄ (efter-brud i forhold til største før-brud)",
                   "en": "M̄ (post-period violation relative to the largest pre-period one)"},
    "fig.sens_y": {"da": "Gennemsnitlig effekt efter start",
                   "en": "Average effect after the start"},
    # ------------------------------------------------------------------ activity verdict reasons
    # Danish readers get the decision rule's own text (botrygt_eval.activities.rule); these
    # are its English counterparts, written by reports_content.activity_reasons.
    "reason.simultaneous": {"da": "samtidigt {level}-interval", "en": "simultaneous {level} interval"},
    "reason.few": {
        "da": "For lidt data: {n} aktiviteter i {k} kommuner (mindst {min_n} aktiviteter i "
              "{min_k} kommuner kræves) — effekten kan ikke vurderes.",
        "en": "Too little data: {n} activities in {k} municipalities (at least {min_n} "
              "activities in {min_k} municipalities are needed) — the effect cannot be judged."},
    "reason.estimate": {
        "da": "Anslået effekt på indbrud: {est} pr. aktivitet ({level} {lo} til {hi})",
        "en": "Estimated effect on burglary: {est} per activity ({level} {lo} to {hi})"},
    "reason.nabohjaelp": {"da": "Nabohjælp: {pp} procentpoint pr. aktivitet.",
                          "en": "Nabohjælp: {pp} percentage points per activity."},
    "reason.repeat": {"da": "færre indbrud, og intervallet udelukker nul.{nh} Gentag.",
                      "en": "fewer burglaries, and the interval excludes zero.{nh} Repeat."},
    "reason.change_mixed": {
        "da": "færre indbrud, men Nabohjælp faldt.{nh} Blandet evidens — justér.",
        "en": "fewer burglaries, but Nabohjælp fell.{nh} Mixed evidence — adjust."},
    "reason.change_intermediate": {
        "da": "ingen påvist effekt på indbrud, men flere tilmeldt Nabohjælp.{nh} Virker på "
              "mellemmålet — justér, så det når indbrud.",
        "en": "no demonstrated effect on burglary, but more people signed up to Nabohjælp.{nh} "
              "Works on the intermediate outcome — adjust it so it reaches burglary."},
    "reason.drop_harm": {
        "da": "flere indbrud, og intervallet udelukker nul. Stop aktiviteten.",
        "en": "more burglaries, and the interval excludes zero. Stop the activity."},
    "reason.drop_null": {
        "da": "intervallet udelukker en reduktion på {worth} eller mere, og data havde styrke "
              "til at se den (mindste påviselige effekt {mde}). Stop eller erstat aktiviteten.",
        "en": "the interval rules out a reduction of {worth} or more, and the data had the "
              "power to see one (minimum detectable effect {mde}). Stop or replace the "
              "activity."},
    "reason.insufficient": {
        "da": "hverken en effekt eller fravær af en effekt på {worth} kan påvises (mindste "
              "påviselige effekt {mde}).{nh} Mere data eller et forsøg kræves, før der besluttes.",
        "en": "neither an effect nor the absence of an effect of {worth} can be shown (minimum "
              "detectable effect {mde}).{nh} More data or a trial are needed before deciding."},
    "reason.pretrend": {
        "da": "Bemærk: indbruddene afveg allerede kvartalet før aktiviteterne startede (de sættes "
              "måske i gang som reaktion på indbrud); kvartalet holdes uden for sammenligningen.",
        "en": "Note: burglaries already deviated in the quarter before the activities started "
              "(they may be started in response to burglaries); that quarter is kept out of "
              "the comparison."},
    # ------------------------------------------------------------------ activities report
    "activities.title": {"da": "Bo trygt: aktiviteter (gentag, ændr eller drop)",
                         "en": "Bo trygt: activities (repeat, change or drop)"},
    "activities.summary": {
        "da": "- Aktivitetsloggen har **{n} aktiviteter** i {k} kommuner.\n"
              "- Den hyppigste type er **{top}** ({n_top} aktiviteter).\n"
              "- Rækkevidde og udgift er kun summeret over de aktiviteter, der har oplyst dem "
              "(kolonnerne 'med rækkevidde' og 'med udgift').",
        "en": "- The activity log has **{n} activities** in {k} municipalities.\n"
              "- The most frequent type is **{top}** ({n_top} activities).\n"
              "- Reach and cost are summed only over the activities that reported them (the "
              "columns 'with reach' and 'with cost')."},
    "activities.h_by_type": {"da": "Aktiviteter efter type", "en": "Activities by type"},
    "activities.fig_bars": {"da": "Aktiviteter i Bo trygt-partnerskaberne",
                            "en": "Activities in the Bo trygt partnerships"},
    "activities.h_by_year": {"da": "Aktiviteter efter år", "en": "Activities by year"},
    "activities.h_verdict": {"da": "Virker aktiviteterne? Gentag, ændr eller drop",
                             "en": "Do the activities work? Repeat, change or drop"},
    "activities.verdict_intro": {
        "da": "Effekten er den anslåede ændring i anmeldte indbrud pr. aktivitet, mens den "
              "virker. Intervallerne er samtidige 95 %-konfidensintervaller: de dækker alle "
              "aktivitetstyper på én gang, så de er bredere end et interval for én type. "
              "Vurderingen følger beslutningsreglen i docs/ACTIVITIES.md.",
        "en": "The effect is the estimated change in reported burglaries per activity while it "
              "is active. The intervals are simultaneous 95% confidence intervals: they cover all "
              "activity types at once, so they are wider than an interval for one type. The "
              "verdict follows the decision rule in docs/ACTIVITIES.md."},
    "activities.no_judgement": {
        "da": "**Vurderingen af de enkelte aktiviteters effekt er endnu ikke tilgængelig** "
              "(modulet botrygt_eval.activities mangler). Tabellerne ovenfor viser kun, hvad der "
              "er lavet.",
        "en": "**The judgement of each activity type's effect is not available yet** (the "
              "module botrygt_eval.activities is missing). The tables above only show what was "
              "done."},
    "activities.fig_verdict_x": {"da": "Ændring i indbrud pr. aktivitet (%)",
                                 "en": "Change in burglary per activity (%)"},
    "activities.h_media": {"da": "Konstruktiv mediedækning pr. partnerskab",
                           "en": "Constructive media coverage per partnership"},
    "activities.media_intro": {
        "da": "Konstruktiv: artiklen om indbrud følger op med et af de fem råd eller en anden "
              "handlingsanvisning (Bo trygt-principperne, princip 3), kodet med ordbogen i "
              "docs/MEDIA.md. Andele bygget på færre end {min_cell} indbrudsartikler vises ikke.",
        "en": "Constructive: the article about burglary follows up with one of the five tips or "
              "other advice on what to do (the Bo trygt principles, principle 3), coded with the "
              "dictionary in docs/MEDIA.md. Shares based on fewer than {min_cell} burglary "
              "articles are not shown."},
    "activities.media_kappa": {
        "da": "Kodningen stemmer overens med en håndkodet stikprøve på {n} artikler: Cohens kappa "
              "{kappa} (95 %-KI {lo} til {hi}).",
        "en": "The coding agrees with a hand-coded sample of {n} articles: Cohen's kappa "
              "{kappa} (95% CI {lo} to {hi})."},
    "activities.no_media": {
        "da": "Der er ingen medieartikler i datamappen (media/articles.csv), så den konstruktive "
              "mediedækning kan ikke opgøres. Formatet er beskrevet i docs/DATA_FORMATS.md.",
        "en": "The data folder has no media articles (media/articles.csv), so constructive media "
              "coverage cannot be measured. The format is described in docs/DATA_FORMATS.md."},
    "activities.methods": {
        "da": "- Aktivitetsloggen (registers/activities.csv): én række pr. aktivitet med type, "
              "start, rækkevidde og udgift.\n"
              "- Effekten pr. aktivitetstype er skønnet i én to-vejs fixed effects-model for "
              "alle typer på kommune × kvartal, med kontrol for partnerskabets egen udvikling; "
              "standardfejl klynget på kommune.",
        "en": "- The activity log (registers/activities.csv): one row per activity with type, "
              "start, reach and cost.\n"
              "- The effect per activity type is estimated in one two-way fixed effects model "
              "for all types on municipality × quarter, controlling for the partnership's own "
              "trend; standard errors clustered by municipality."},
    "col.n_activities": {"da": "Antal", "en": "Number"},
    "col.n_kommuner": {"da": "Kommuner", "en": "Municipalities"},
    "col.effect_pct": {"da": "Effekt %", "en": "Effect %"},
    "col.verdict": {"da": "Vurdering", "en": "Verdict"},
    "col.media_burglary_articles": {"da": "Indbrudsartikler seneste år",
                                    "en": "Burglary articles, latest year"},
    "col.media_bo_trygt_mentions": {"da": "Omtaler af Bo trygt seneste år",
                                    "en": "Mentions of Bo trygt, latest year"},
    "col.media_constructive_before": {"da": "Konstruktive før aftalen %",
                                      "en": "Constructive before the agreement %"},
    "col.media_constructive_before_n": {"da": "Artikler før", "en": "Articles before"},
    "col.media_constructive_since": {"da": "Konstruktive siden aftalen %",
                                     "en": "Constructive since the agreement %"},
    "col.media_constructive_since_ci_low": {"da": "95 %-KI fra", "en": "95% CI from"},
    "col.media_constructive_since_ci_high": {"da": "95 %-KI til", "en": "95% CI to"},
    "col.media_constructive_since_n": {"da": "Artikler siden", "en": "Articles since"},
    # ------------------------------------------------------------------ learning-review report
    "review.title": {"da": "Bo trygt: læringsreviewets figurer genskabt fra data",
                     "en": "Bo trygt: the learning review's figures recomputed from data"},
    "review.respondents": {
        "da": "Projektlederundersøgelsen ({file}): **{n} svar** ({q} rækker sat i karantæne).",
        "en": "The project-leader survey ({file}): **{n} responses** ({q} rows quarantined)."},
    "review.recomputed": {
        "da": "{figures} figurer med {n} procenttal er genberegnet fra svarene.",
        "en": "{figures} figures with {n} percentages are recomputed from the responses."},
    "review.matches": {"da": "{hits} af {n} publicerede procenttal genfindes præcist.",
                       "en": "{hits} of {n} published percentages are reproduced exactly."},
    "review.h_figures": {"da": "Figurerne", "en": "The figures"},
    "review.h_table": {"da": "Publicerede og genberegnede procenttal",
                       "en": "Published and recomputed percentages"},
    "review.methods": {
        "da": "Hvert procenttal er genberegnet fra projektledernes svar med samme base som i "
              "læringsreviewet (alle, der har svaret på spørgsmålet) og afrundet som i den "
              "publicerede rapport.",
        "en": "Each percentage is recomputed from the project leaders' responses on the same "
              "base as in the learning review (everyone who answered the question) and rounded "
              "as in the published report."},
    "col.review_figure": {"da": "Figur", "en": "Figure"},
    "col.review_category": {"da": "Kategori", "en": "Category"},
    "col.review_matches": {"da": "Stemmer", "en": "Matches"},
    "col.published_pct": {"da": "Publiceret %", "en": "Published %"},
    "col.recomputed_pct": {"da": "Genberegnet %", "en": "Recomputed %"},
    # ------------------------------------------------------------------ local monitoring, media, tile map
    "local.h": {"da": "Lokal overvågning", "en": "Local monitoring"},
    "local.intro": {
        "da": "Kortene viser anmeldte indbrud i boliger i kommunen på Danmarks Statistiks "
              "kvadratnet ({size}), for de seneste {n_q} kvartaler ({first}–{last}). "
              "Indbrudsraten er udglattet: i kvadrater med få husstande trækkes tallet mod "
              "kommunens gennemsnit, så et enkelt indbrud ikke får et lille område til at se "
              "farligt ud. **Kvadrater med færre end {threshold} indbrud er skjult** (hvide), "
              "fordi et indbrud på en adresse er en personoplysning; derfor har kortet huller.",
        "en": "The maps show reported residential burglaries in the municipality on the "
              "Statistics Denmark square grid ({size}), for the last {n_q} quarters "
              "({first}–{last}). The burglary rate is smoothed: in squares with few households "
              "it is pulled towards the municipal average, so one burglary does not make a small "
              "area look dangerous. **Squares with fewer than {threshold} burglaries are "
              "hidden** (white), because a burglary at an address is personal data; hence the "
              "gaps in the map.",
    },
    "local.counts": {
        "da": "- {burglaries} indbrud i {households} husstande: {rate} indbrud pr. 1.000 "
              "husstande pr. år.\n- {shown} af {cells} kvadrater vises; {hidden} er skjulte "
              "(de rummer {hidden_burglaries} af indbruddene).\n- {n_hot} kvadrater er hotspots.",
        "en": "- {burglaries} burglaries in {households} households: {rate} burglaries per "
              "1,000 households a year.\n- {shown} of {cells} squares are shown; {hidden} are "
              "hidden (they hold {hidden_burglaries} of the burglaries).\n- {n_hot} squares "
              "are hotspots.",
    },
    "local.rate_title": {"da": "Indbrud pr. 1.000 husstande pr. år (udglattet), {navn}",
                         "en": "Burglaries per 1,000 households a year (smoothed), {navn}"},
    "local.hotspot_note": {
        "da": "Sort kant: **hotspot**, et område hvor indbrudsraten sammen med nabokvadraterne "
              "er markant højere end i resten af kommunen i flere af de seneste kvartaler "
              "(Getis-Ord Gi*, justeret for, at mange kvadrater testes på én gang).",
        "en": "Black outline: **hotspot**, an area where the burglary rate, together with the "
              "neighbouring squares, is markedly above the rest of the municipality in several "
              "of the last quarters (Getis-Ord Gi*, adjusted for testing many squares at once).",
    },
    "local.gap_title": {"da": "Mange indbrud, få nabohjælpere: {navn}",
                        "en": "Many burglaries, few Neighbourhood Watch members: {navn}"},
    "local.gap_text": {
        "da": "Kortet viser for hvert kvadrat sandsynligheden for, at det både har flere indbrud "
              "og færre nabohjælpere pr. husstand end det typiske kvadrat i kommunen. Mørke "
              "kvadrater er oplagte steder at rekruttere til Nabohjælp.",
        "en": "For each square, the map shows the probability that it has both more burglaries "
              "and fewer Neighbourhood Watch members per household than the typical square in "
              "the municipality. Dark squares are obvious places to recruit members.",
    },
    "local.h_hot": {"da": "Hotspots", "en": "Hotspots"},
    "local.no_hot": {"da": "Ingen viste kvadrater er hotspots i perioden.",
                     "en": "No shown square is a hotspot in the period."},
    "local.h_near": {"da": "Nærgentagelse", "en": "Near repeats"},
    "local.near_text": {
        "da": "Efter et indbrud er naboerne ofte i øget risiko i de følgende uger. Figuren tæller "
              "par af indbrud efter afstand og tid mellem dem og sammenligner med det antal, man "
              "ville forvente, hvis tidspunkterne var tilfældige. Over 1 (rød) betyder flere par "
              "end ventet; * markerer, at forskellen næppe er tilfældig. Mange par tæt på "
              "hinanden i tid og sted taler for at advare naboerne hurtigt efter et indbrud.",
        "en": "After a burglary, the neighbours are often at higher risk for some weeks. The "
              "figure counts pairs of burglaries by the distance and time between them and "
              "compares with the number expected if the dates were random. Above 1 (red) means "
              "more pairs than expected; * marks a difference unlikely to be chance. Many pairs "
              "close in time and space argue for warning the neighbours soon after a burglary.",
    },
    "local.none": {"da": "Kommunen har ingen lokale data (geokodede indbrud) i arbejdsmappen.",
                   "en": "The workspace holds no local data (geocoded burglaries) for this "
                         "municipality."},
    "media.h": {"da": "Mediedækning af indbrud", "en": "Media coverage of burglary"},
    "media.text": {
        "da": "Andelen af artikler om indbrud, der er konstruktive (giver råd, fortæller om "
              "forebyggelse, Nabohjælp eller Bo trygt), år for år med 95 %-interval, for hele "
              "landet og kommunen. Artiklerne er kodet automatisk med en ordliste. År med færre "
              "end {min_n} artikler om indbrud vises ikke som andel.",
        "en": "The share of burglary articles that are constructive (give advice, report on "
              "prevention, Neighbourhood Watch or Bo trygt), year by year with a 95% interval, "
              "for the country and the municipality. Articles are coded automatically with a "
              "phrase list. Years with fewer than {min_n} burglary articles show no share.",
    },
    "tile.h": {"da": "Indbrud i hver kommune", "en": "Burglary in each municipality"},
    "tile.title": {"da": "Ændring i indbrud pr. 1.000 husstande, {first}–{last}",
                   "en": "Change in burglaries per 1,000 households, {first}–{last}"},
    "tile.label": {"da": "Ændring (%); hvid = hele landet ({national})",
                   "en": "Change (%); white = Denmark ({national})"},
    "tile.partner": {"da": "Bo trygt-partnerskab", "en": "Bo trygt partnership"},
    "tile.text": {
        "da": "Hver firkant er en kommune, placeret omtrent hvor den ligger (alle lige store, "
              "så også små kommuner kan ses). Farven er ændringen i anmeldte indbrud pr. "
              "husstand fra {first} (året før det første partnerskab) til {last}, målt mod hele "
              "landet, hvor ændringen var {national}: hvid er som landet, blå et større fald, "
              "rød et mindre fald eller en stigning. Sort kant: kommunen har et Bo "
              "trygt-partnerskab. Kortet viser udviklingen, ikke partnerskabets effekt (den "
              "står i afsnittet om effekter). Skraverede kommuner havde færre end {min_n} "
              "indbrud i et af årene, for få til at sige noget om en ændring.",
        "en": "Each square is a municipality, placed roughly where it lies (all the same size, "
              "so small municipalities show too). The colour is the change in reported "
              "burglaries per household from {first} (the year before the first partnership) "
              "to {last}, against the whole country, where it was {national}: white is like the "
              "country, blue a larger fall, red a smaller fall or a rise. Black outline: the "
              "municipality has a Bo trygt partnership. The map shows the trend, not the "
              "partnership's effect (see the section on effects). Hatched municipalities had "
              "fewer than {min_n} burglaries in one of the years, too few to say anything "
              "about a change.",
    },
    "col.cell_id": {"da": "Kvadrat", "en": "Square"},
    "col.households": {"da": "Husstande", "en": "Households"},
    "col.burglaries": {"da": "Indbrud", "en": "Burglaries"},
    "col.rate_shrunk": {"da": "Indbrud pr. 1.000 husstande pr. år (udglattet)",
                        "en": "Burglaries per 1,000 households a year (smoothed)"},
    "col.rate_low": {"da": "90 %-interval fra", "en": "90% interval from"},
    "col.rate_high": {"da": "90 %-interval til", "en": "90% interval to"},
    "col.coverage_per_100": {"da": "Nabohjælpere pr. 100 husstande",
                             "en": "Watch members per 100 households"},
    "col.gap_pct": {"da": "Sandsynlighed (%): mange indbrud, få nabohjælpere",
                    "en": "Probability (%): many burglaries, few members"},
}  # fmt: skip
