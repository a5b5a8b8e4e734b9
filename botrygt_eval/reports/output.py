"""What a report notebook shows and saves: headings and text, tables, figures.

:func:`start` sets a notebook up (headless matplotlib, output folders, the simulated-data
note); :class:`ReportOutput` saves each chart (PNG, stamped SIMULEREDE DATA when the data
are simulated, with its alt text) and table (CSV); :func:`show_table`, :func:`show_figure`
and :func:`say` display them in the report's language.
"""

from __future__ import annotations

import base64
import html
import warnings
from pathlib import Path

import IPython.display as ipd
import matplotlib
import pandas as pd
from PIL import Image

from botrygt_eval import SIMULATED_BANNER
from botrygt_eval.errors import DidWarning
from botrygt_eval.panel.build import PanelWarning
from botrygt_eval.plots.style import fit_inside, mark_simulated
from botrygt_eval.privacy.guard import guarded_to_csv
from botrygt_eval.text.catalogue import check_lang, has, label, t


def figure_alt(fig) -> str:
    """Alternative text of a chart, from what it shows: its titles and axis labels
    (webtilgængelighedsloven asks for a text alternative to every figure)."""
    parts = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        bits = [ax.get_title(), ax.get_xlabel() and f"x: {ax.get_xlabel()}",
                ax.get_ylabel() and f"y: {ax.get_ylabel()}"]  # fmt: skip
        parts.append("; ".join(b for b in bits if b))
    return ". ".join(p for p in parts if p) or "Figur"


#: resolution of the saved charts (a 7 inch wide chart is 770 pixels)
FIGURE_DPI = 110


def save_png(fig, path: Path, *, dpi: float, metadata: dict | None = None) -> None:
    """Save ``fig`` as PNG drawing it once: its layout engine runs at the saved resolution,
    then the Agg canvas draws and writes it with the engine off.

    ``savefig`` on a figure with a layout engine (every report chart has one) first draws
    the whole figure without rendering, to run the engine, then draws it again; that first
    pass is a third of the time a report spends on charts. Running the engine alone gives
    the same layout, so the PNG is the same, byte for byte
    (``tests/reports/test_report_figures.py``). A figure made without pyplot gets an Agg
    canvas, as ``savefig`` would give it; other canvases go through ``savefig``.
    """
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if type(fig.canvas) is FigureCanvasBase:  # a Figure made without pyplot
        FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    if not isinstance(fig.canvas, FigureCanvasAgg) or engine is None:
        fig.savefig(path, dpi=dpi, metadata=metadata)
        return
    fig.set_dpi(dpi)
    if fig.axes:  # Figure.draw runs the engine only when there are axes
        engine.execute(fig)
    fig.set_layout_engine("none")  # a placeholder: the draw below keeps this layout
    try:
        fig.canvas.print_png(path, metadata=metadata)
    finally:
        fig.set_layout_engine(engine)


class ReportOutput:
    """Saves a report's charts (PNG) and tables (CSV) into its folder and stamps them."""

    def __init__(self, out_dir: str | Path, simulated: bool):
        self.out = Path(out_dir)
        self.simulated = simulated
        (self.out / "figurer").mkdir(parents=True, exist_ok=True)
        (self.out / "tabeller").mkdir(parents=True, exist_ok=True)

    def figure(self, fig, name: str) -> Path:
        """Stamp SIMULEREDE DATA on a chart from simulated data and save it as PNG, laid out
        inside its canvas (a tight bounding box would draw it twice: plots.style)."""
        if self.simulated:
            mark_simulated(fig)
        else:
            fit_inside(fig)
        path = self.out / "figurer" / f"{name}.png"
        save_png(fig, path, dpi=FIGURE_DPI, metadata={"Description": figure_alt(fig)})
        return path

    def table(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """Save an aggregate table as CSV (marked when simulated) and return it for display."""
        out = frame.copy()
        if self.simulated:
            out.insert(0, "data_source", SIMULATED_BANNER)
        guarded_to_csv(out, self.out / "tabeller" / f"{name}.csv", index=False)
        return frame


#: The package's own warnings: the estimate is computed, but the reader must know
#: (a small cohort, kommuner left out). Shown in the report, in words, once each.
READER_WARNINGS: tuple[type[Warning], ...] = (DidWarning, PanelWarning)
_PYTHON_SHOWWARNING = warnings.showwarning  # where every other warning goes


def show_warnings_to_the_reader(lang: str = "da") -> None:
    """Show each of the package's warnings (:data:`READER_WARNINGS`) in the report as a
    note in ``lang``: what it means, then (English reports only: the package's messages are
    English) the message itself; a note already shown is not repeated. Any other warning
    goes where Python sends it (nothing is hidden). A Python warning on stderr would put
    file paths into a municipality's report."""
    check_lang(lang)
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, READER_WARNINGS):
            return _PYTHON_SHOWWARNING(message, category, filename, lineno, file, line)
        meaning = next(label("warning", c.__name__, lang) for c in category.__mro__
                       if has(f"warning.{c.__name__}"))  # fmt: skip
        if lang == "en":
            note = t("common.computation_note", lang, what=meaning, detail=str(message))
        else:
            note = t("common.computation_note_plain", lang, what=meaning)
        if note not in seen:
            seen.add(note)
            say(note)

    warnings.showwarning = show


def start(out_dir: str | Path, simulated: bool, lang: str = "da") -> ReportOutput:
    """Set up a report notebook: headless matplotlib, output folders, the banner shown,
    the package's warnings shown to the reader (:func:`show_warnings_to_the_reader`)."""
    matplotlib.use("Agg")
    check_lang(lang)
    show_warnings_to_the_reader(lang)
    if simulated:
        ipd.display(ipd.Markdown(t("common.simulated_note", lang)))
    return ReportOutput(out_dir, simulated)


_CODE_COLUMNS = (
    "year",
    "basisaar",
    "seneste_aar",
    "kommune_kode",
    "event_time",
    "baseline_year",
    "judged_year",
    "latest_year",
    "fear_year",
    "nabohjaelp_year",
)


def show_table(frame: pd.DataFrame, columns: dict[str, str], digits: int = 1,
               lang: str = "da") -> None:  # fmt: skip
    """Display the ``columns`` of a table, renamed (``report_text.cols``), numbers per ``lang``.

    Danish: decimal comma and thousands dot; English: decimal point and thousands comma.
    """
    tab = frame[list(columns)].reset_index(drop=True)  # the styler needs a unique index
    for c in tab.columns.intersection(list(_CODE_COLUMNS)):  # years and codes: no thousands dot
        tab[c] = tab[c].astype("Int64").astype(str).replace("<NA>", "–")
    renamed_codes = {columns[c] for c in tab.columns.intersection(list(_CODE_COLUMNS))}
    tab = tab.rename(columns=columns)
    decimal, thousands = (",", ".") if check_lang(lang) == "da" else (".", ",")
    text = [c for c in tab.columns if tab[c].dtype == object and c not in renamed_codes]
    style = tab.style.hide(axis="index").format(precision=digits, na_rep="–", decimal=decimal,
                                                thousands=thousands)  # fmt: skip
    if text:  # names and labels read left-aligned, numbers right-aligned
        style = style.set_properties(subset=text, **{"text-align": "left"})
        style = style.set_table_styles({c: [{"selector": "th", "props": "text-align: left"}]
                                        for c in text})  # fmt: skip
    ipd.display(ipd.HTML(style.to_html()))


def show_figure(path: Path, alt: str | None = None, lang: str = "da") -> None:
    """Display a saved (stamped) PNG inline, with alternative text for screen readers."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    name = Path(path).stem.replace("_", " ")
    with Image.open(path) as im:  # the chart's own description (ReportOutput.figure)
        described = im.info.get("Description")
    text = html.escape(alt or described or t("common.figure_alt", lang, name=name), quote=True)
    ipd.display(
        ipd.HTML(f'<img src="data:image/png;base64,{data}" alt="{text}" style="max-width:100%"/>')
    )


def say(text: str) -> None:
    """Display a paragraph of Markdown (plain language, the report's ``lang``)."""
    ipd.display(ipd.Markdown(text))
