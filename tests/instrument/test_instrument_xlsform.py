"""The XLSForm converts with pyxform, carries both languages and routing, and is reproducible."""

from __future__ import annotations

import re
import shutil

import openpyxl
import pytest
from pyxform.xls2xform import convert

from botrygt_eval.instrument import load_instrument
from botrygt_eval.instrument.pages import controller_texts
from botrygt_eval.instrument.xlsform import write_xlsform


@pytest.fixture(scope="module", params=[2024, 2025])
def xlsform(request, tmp_path_factory):
    inst = load_instrument(request.param)
    controller, contact = controller_texts(101)
    path = tmp_path_factory.mktemp("xls") / "form.xlsx"
    write_xlsform(inst, path, controller=controller, contact=contact)
    return inst, path


def test_converts_with_pyxform(xlsform):
    inst, path = xlsform
    result = convert(xlsform=str(path))
    xml = result.xform
    assert result.warnings == []
    assert f"<h:title>{inst.title['da']}</h:title>" in xml
    for item_id in inst.item_ids:
        assert f'/grp_{inst.item(item_id).group}/{item_id}"' in xml
    assert 'lang="Dansk (da)"' in xml and 'lang="English (en)"' in xml
    # routing survives as an XPath relevant on vict_reported
    assert re.search(
        r'nodeset="[^"]*/vict_reported"[^>]*relevant="[^"]*vict_burglary[^"]*= \'1\' or', xml
    )
    assert 'required="true()"' in xml


def test_sheets_and_columns(xlsform):
    inst, path = xlsform
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["survey", "choices", "settings"]
    header = [c.value for c in wb["survey"][1]]
    assert {"type", "name", "label::Dansk (da)", "label::English (en)", "relevant"} <= set(header)
    settings = {c.value: v.value for c, v in zip(wb["settings"][1], wb["settings"][2], strict=True)}
    assert settings["default_language"] == "Dansk (da)"
    assert settings["form_id"] == f"borgerundersoegelse_{inst.year}"
    names = [
        r[1]
        for r in wb["survey"].iter_rows(min_row=2, values_only=True)
        if r[0] and str(r[0]).startswith("select_one")
    ]
    assert names == list(inst.item_ids)
    choices = list(wb["choices"].iter_rows(min_row=2, values_only=True))
    yes_no = [(r[1], r[2]) for r in choices if r[0] == "yes_no"]
    assert yes_no == [("1", "Ja"), ("2", "Nej"), ("98", "Ved ikke"), ("99", "Ønsker ikke at svare")]
    assert all(r[2] and r[3] for r in choices)  # both languages on every choice


def test_bytes_are_reproducible(xlsform, tmp_path):
    inst, path = xlsform
    controller, contact = controller_texts(101)
    again = write_xlsform(inst, tmp_path / "again.xlsx", controller=controller, contact=contact)
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs Java")
def test_odk_validate(xlsform):
    inst, path = xlsform
    result = convert(xlsform=str(path), validate=True)  # raises ODKValidateError on failure
    assert result.warnings == []


def test_link_fields_resp_id_and_year(xlsform):
    """The form carries the link to the sample: a hidden resp_id and a calculated year."""
    inst, path = xlsform
    xml = convert(xlsform=str(path)).xform
    # both at the top level of the instance, so exports name them without a group prefix
    assert re.search(r"<data [^>]*><resp_id/><year/>", xml)
    assert '<bind nodeset="/data/resp_id" type="string"/>' in xml
    assert f'<bind nodeset="/data/year" type="string" calculate="{inst.year}"/>' in xml
    # hidden: no control in the body, so only the survey link can fill it
    assert 'ref="/data/resp_id"' not in xml.split("<h:body>")[1]


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs Java")
def test_passes_odk_validate(xlsform, tmp_path):
    """ODK Validate (the jar shipped with pyxform, run offline) accepts the 2024 and 2025 forms."""
    from pyxform.validators.odk_validate import check_xform

    _, path = xlsform
    xml_path = tmp_path / "form.xml"
    xml_path.write_text(convert(xlsform=str(path)).xform, encoding="utf-8")
    assert check_xform(str(xml_path)) == []  # raises ODKValidateError on an invalid form
