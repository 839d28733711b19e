"""Catalog import/export: CSV and Excel, row-level Chinese errors, all or nothing, round trips."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from services.catalog_data import DATA_DIR
from services.catalog_format import COLUMNS
from services.models import Department, Item, MaterialRequirement
from services.resources import CatalogImportError, export_catalog_bytes, import_catalog_file

pytestmark = pytest.mark.django_db

HEADERS = [h for _, h in COLUMNS]


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _snapshot() -> tuple:
    return (
        sorted(Item.objects.values_list("code", "name", "committed_days", "is_active")),
        sorted(MaterialRequirement.objects.values_list("item__code", "code", "name", "required")),
        Department.objects.count(),
    )


def test_export_reproduces_the_shipped_file(catalog):
    # The shipped data is the export format: an admin's export can replace it as is.
    assert export_catalog_bytes("catalog.csv") == (DATA_DIR / "items.csv").read_bytes()


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_export_then_reimport_round_trip(catalog, tmp_path, ext):
    path = tmp_path / f"catalog.{ext}"
    call_command("export_catalog", str(path), stdout=io.StringIO())
    before = _snapshot()

    item = Item.objects.get(name="居民身份证换领")
    Item.objects.filter(pk=item.pk).update(name="临时改名", committed_days=1)
    item.materials.filter(code="M02").delete()
    item.zones.clear()

    out = io.StringIO()
    call_command("import_catalog", str(path), stdout=out)
    assert "导入完成" in out.getvalue()
    assert _snapshot() == before
    item.refresh_from_db()
    assert item.name == "居民身份证换领"
    assert list(item.zones.values_list("code", flat=True)) == ["household"]
    # A second export is identical to the first.
    again = tmp_path / f"again.{ext}"
    call_command("export_catalog", str(again), stdout=io.StringIO())
    if ext == "csv":
        assert again.read_bytes() == path.read_bytes()
    else:
        first = [tuple(r) for r in load_workbook(path).active.iter_rows(values_only=True)]
        second = [tuple(r) for r in load_workbook(again).active.iter_rows(values_only=True)]
        assert first == second and len(first) == Item.objects.count() + 1


def test_xlsx_export_is_readable_with_chinese_headers(catalog):
    ws = load_workbook(io.BytesIO(export_catalog_bytes("c.xlsx"))).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    by_code = {r[0]: r for r in rows[1:]}
    item = Item.objects.get(name="内地居民结婚登记")
    row = by_code[item.code]
    assert row[HEADERS.index("法定时限")] == item.legal_days  # numbers stay numbers in Excel
    assert "M01|居民身份证|必要|原件|居民身份证" in row[HEADERS.index("申请材料")]


def test_bad_rows_are_reported_by_line_and_nothing_is_written(catalog, tmp_path):
    rows = _rows(export_catalog_bytes("c.csv"))
    rows[0]["事项名称"] = "这一行本身没错，但不能被写入"  # line 2
    rows[1]["承诺时限"] = str(int(rows[1]["法定时限"]) + 5)  # line 3
    rows[2]["部门类别"] = "外星事务"  # line 4
    rows[3]["办理模式"] = "proxy,fax"  # line 5
    rows[4]["办理层级"] = "乡镇"  # line 6
    rows[5]["申请材料"] = "M01|居民身份证|也许"  # line 7
    rows[6]["事项编码"] = "52-XK-1"  # line 8
    rows[7]["事项编码"] = rows[8]["事项编码"]  # line 9 duplicates line 10
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(rows))
    before = _snapshot()

    with pytest.raises(CommandError) as exc:
        call_command("import_catalog", str(path), stdout=io.StringIO())
    text = str(exc.value)
    assert "未写入任何数据" in text
    assert "第 3 行：承诺时限" in text and "不能超过法定时限" in text
    assert "第 4 行：未知的部门类别「外星事务」" in text
    assert "第 5 行：未知的办理模式「fax」" in text
    assert "第 6 行：未知的办理层级「乡镇」" in text
    assert "第 7 行：申请材料第 1 条的第 3 项应为「必要」或「可选」" in text
    assert "第 8 行：事项编码「52-XK-1」格式不对" in text
    assert "第 10 行：事项编码" in text and "与第 9 行重复" in text
    assert "第 2 行" not in text
    assert _snapshot() == before


def test_every_problem_of_one_row_is_listed_at_once(catalog):
    rows = _rows(export_catalog_bytes("c.csv"))[:1]
    rows[0].update({"事项类型": "licensing", "法定时限": "abc", "行业专区": "火星", "收费": "-3"})
    with pytest.raises(CatalogImportError) as exc:
        import_catalog_file("x.csv", _csv(rows))
    text = "\n".join(exc.value.messages)
    assert "类型代码「QR」与事项类型「行政许可」不符" in text
    assert "法定时限应为整数" in text
    assert "未知的行业专区「火星」" in text
    assert "收费金额「-3」不合理" in text


def test_new_item_is_created_with_materials_and_its_departments(catalog, tmp_path):
    assert not Department.objects.filter(kind_id="water_resources", region__level="city").exists()
    row = dict.fromkeys(HEADERS, "")
    row.update(
        {
            "事项编码": "520000-XK-21002-000",
            "事项名称": "河道管理范围内建设项目工程建设方案审批",
            "事项类型": "行政许可",  # labels are accepted as well as codes
            "部门类别": "水利",
            "办理层级": "市级",
            "办理模式": "全程网办、异地代收代办",
            "法定时限": "20",
            "承诺时限": "10",
            "结果类型": "approval_notice",
            "行业专区": "开办企业",
            "申请材料": "A1|申请书\nA2|营业执照|必要|原件|营业执照\nA3|防洪评价报告|可选",
        }
    )
    path = tmp_path / "new.csv"
    path.write_bytes(_csv([row]))
    call_command("import_catalog", str(path), "--dry-run", stdout=io.StringIO())
    assert not Item.objects.filter(code="520000-XK-21002-000").exists()

    call_command("import_catalog", str(path), stdout=io.StringIO())
    item = Item.objects.get(code="520000-XK-21002-000")
    assert (item.department_kind_id, item.handling_level, item.modes) == (
        "water_resources",
        "city",
        ["online", "proxy"],
    )
    assert item.visits_required == 0 and item.fee == 0
    assert [(m.code, m.required, m.original_needed, m.e_license_type) for m in item.materials.all()] == [
        ("A1", True, False, ""),
        ("A2", True, True, "营业执照"),
        ("A3", False, False, ""),
    ]
    assert list(item.zones.values_list("code", flat=True)) == ["business"]
    # Imported items are routable at once: city water departments were created with them.
    assert Department.objects.filter(kind_id="water_resources", region__level="city").count() == 9


def test_import_replaces_an_items_materials(catalog):
    rows = _rows(export_catalog_bytes("c.csv"))
    row = next(r for r in rows if r["事项名称"] == "内地居民离婚登记")
    row["申请材料"] = "M01|居民身份证|必要|原件|居民身份证\nM09|离婚协议书|必要|原件"
    import_catalog_file("x.csv", _csv([row]))
    item = Item.objects.get(name="内地居民离婚登记")
    assert list(item.materials.values_list("code", "name")) == [("M01", "居民身份证"), ("M09", "离婚协议书")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.csv", "事项名称,法定时限\n某事项,5\n".encode(), "文件缺少必需的列：事项编码"),
        ("x.csv", b"", "文件为空"),
        ("x.csv", ",".join(HEADERS).encode() + b"\n", "没有事项数据"),
        ("x.csv", "事项编码".encode("gbk"), "不是 UTF-8 编码"),
        ("x.txt", b"whatever", "不支持的文件类型"),
        ("x.xlsx", b"not a workbook", "文件无法读取"),
    ],
)
def test_unreadable_files_are_refused(catalog, name, content, message):
    before = _snapshot()
    with pytest.raises(CatalogImportError) as exc:
        import_catalog_file(name, content)
    assert message in "\n".join(exc.value.messages)
    assert _snapshot() == before


def test_import_command_reports_missing_file(catalog, tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("import_catalog", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="不支持的文件类型"):
        call_command("export_catalog", str(tmp_path / "out.pdf"))


def test_english_keys_are_accepted_as_headers(catalog):
    rows = _rows(export_catalog_bytes("c.csv"))[:2]
    keys = dict(zip(HEADERS, [k for k, _ in COLUMNS], strict=True))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(keys.values()))
    writer.writeheader()
    writer.writerows({keys[h]: v for h, v in r.items()} for r in rows)
    result = import_catalog_file("en.csv", out.getvalue().encode())
    assert result.totals["update"] == 2


def test_admin_import_shows_row_errors_and_export_works(catalog, client, django_user_model):
    admin = django_user_model.objects.create_superuser(username="catalog-admin", password="pw-123456!")
    client.force_login(admin)
    assert client.get("/admin/services/item/").status_code == 200
    item = Item.objects.get(name="居民身份证换领")
    assert client.get(f"/admin/services/item/{item.pk}/change/").status_code == 200

    rows = _rows(export_catalog_bytes("c.csv"))[:3]
    rows[1]["承诺时限"] = "999"
    upload = io.BytesIO(_csv(rows))
    upload.name = "bad.csv"
    before = _snapshot()
    r = client.post(
        "/admin/services/item/import/",
        {"resource": "0", "format": "0", "import_file": upload},
    )
    assert r.status_code == 200
    page = r.content.decode()
    assert "第 3 行：承诺时限（999 个工作日）不能超过法定时限" in page
    assert _snapshot() == before

    form = client.get("/admin/services/item/export/")
    assert "事项编码" in form.content.decode()
    columns = {f"itemresource_{key}": "on" for key, _ in COLUMNS}
    r = client.post(
        "/admin/services/item/export/", {"resource": "0", "format": "0", "export_items": [item.pk], **columns}
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    exported = _rows(r.content)
    assert [row["事项名称"] for row in exported] == ["居民身份证换领"]
    assert exported[0]["申请材料"].startswith("M01|居民身份证|必要|原件|居民身份证")


def test_admin_import_confirm_writes_the_rows(catalog, client, django_user_model):
    admin = django_user_model.objects.create_superuser(username="catalog-admin2", password="pw-123456!")
    client.force_login(admin)
    rows = _rows(export_catalog_bytes("c.csv"))
    row = next(r for r in rows if r["事项名称"] == "补领婚姻登记证")
    row["承诺时限"] = "2"
    upload = io.BytesIO(_csv([row]))
    upload.name = "ok.csv"
    r = client.post("/admin/services/item/import/", {"resource": "0", "format": "0", "import_file": upload})
    assert r.status_code == 200
    confirm = r.context["confirm_form"]
    assert Item.objects.get(name="补领婚姻登记证").committed_days == 1  # the preview wrote nothing
    r = client.post("/admin/services/item/process_import/", confirm.initial)
    assert r.status_code == 302
    assert Item.objects.get(name="补领婚姻登记证").committed_days == 2
