"""Finding 5: a rating comment or catalog cell starting with = + - @ (or tab / CR) must never be a live
formula in an exported CSV or XLSX."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from config.spreadsheet import FORMULA_PREFIXES, neutralise, restore
from ratings import actions
from ratings.actions import RatingInput

pytestmark = pytest.mark.django_db

PAYLOAD = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_every_prefix_is_neutralised_and_restored(prefix):
    value = prefix + "1+1"
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value
    # Plain text, numbers and negative numbers stay what they are.
    assert neutralise("等太久") == "等太久" and neutralise(-5) == -5 and neutralise(None) is None


def test_rating_comment_formula_is_text_in_csv_and_xlsx(wf, deliver):
    from openpyxl import load_workbook

    actions.rate_case(case=deliver(), actor=wf.users["citizen"], data=RatingInput(level=1, comment=PAYLOAD))
    sup = Client()
    sup.force_login(wf.users["sup_province"])

    resp = sup.get("/supervision/ratings/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))
    comment_col = rows[0].index("评价内容")
    assert rows[1][comment_col] == "'" + PAYLOAD

    resp = sup.get("/supervision/ratings/export.xlsx")
    ws = load_workbook(io.BytesIO(resp.content)).active
    cell = ws.cell(row=2, column=comment_col + 1)
    assert cell.data_type == "s" and cell.value == "'" + PAYLOAD


def test_catalog_formats_escape_on_export_and_restore_on_import():
    import tablib
    from openpyxl import load_workbook

    from services.resources import FORMATS

    data = tablib.Dataset(headers=["name"])
    data.append(["@SUM(A1)"])
    csv_text = FORMATS["csv"]().export_data(data)
    assert "'@SUM(A1)" in csv_text
    assert FORMATS["csv"]().create_dataset(csv_text)[0][0] == "@SUM(A1)"
    xlsx = FORMATS["xlsx"]().export_data(data)
    cell = load_workbook(io.BytesIO(xlsx)).active.cell(row=2, column=1)
    assert cell.data_type == "s" and cell.value == "'@SUM(A1)"
    assert FORMATS["xlsx"]().create_dataset(xlsx)[0][0] == "@SUM(A1)"
