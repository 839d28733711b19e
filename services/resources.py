"""django-import-export resources for the catalog: items with their materials in one row.

Used by the admin (CSV and Excel import/export) and by `import_catalog` / `export_catalog`. The row
format and its validation live in services.catalog_format and the writes in services.actions, so
the admin, the commands and the shipped data (services/data/items.csv) all follow the same rules.

An import is all or nothing: every row is validated ("第 3 行：承诺时限……不能超过法定时限……") and
the whole import is rolled back when any row is bad.
"""

from __future__ import annotations

from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from import_export import fields, resources
from import_export.formats import base_formats

from config.spreadsheet import SafeCSV, SafeXLSX
from services.actions import upsert_items
from services.catalog_format import (
    CODE_RE,
    COLUMNS,
    HEADERS,
    KEY_BY_HEADER,
    ItemSpec,
    RowError,
    Vocabulary,
    item_to_row,
    line_number,
    missing_columns,
    parse_row,
)
from services.models import DepartmentKind, IndustryZone, Item
from services.selectors import items_with_details

INTEGER_KEYS = {"legal_days", "committed_days", "visits_required"}
# Formula-escaping formats: a catalog cell like "=HYPERLINK(...)" is text in the exported file.
FORMATS: dict[str, type[base_formats.Format]] = {"csv": SafeCSV, "xlsx": SafeXLSX}


def export_sort_key(item: Item) -> tuple[str, str]:
    m = CODE_RE.match(item.code)
    return (f"{m['main']}-{m['sub']}" if m else item.code, item.code)


class CatalogImportError(Exception):
    """A catalog file that cannot be imported; `messages` are in Chinese, one per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


def _field(key: str) -> fields.Field:
    return fields.Field(attribute=key, column_name=HEADERS[key])


class ItemResource(resources.ModelResource):
    code = _field("code")
    name = _field("name")
    item_type = _field("item_type")
    department_kind = _field("department_kind")
    handling_level = _field("handling_level")
    modes = _field("modes")
    legal_days = _field("legal_days")
    committed_days = _field("committed_days")
    fee = _field("fee")
    visits_required = _field("visits_required")
    result_type = _field("result_type")
    result_name = _field("result_name")
    zones = _field("zones")
    co_department_kinds = _field("co_department_kinds")
    keywords = _field("keywords")
    deemed_acceptance = _field("deemed_acceptance")
    is_active = _field("is_active")
    legal_basis = _field("legal_basis")
    materials = _field("materials")

    class Meta:
        model = Item
        fields = tuple(key for key, _ in COLUMNS)
        export_order = fields
        import_id_fields = ("code",)
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = False
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._specs: dict[int, ItemSpec] = {}
        self._seen: dict[str, int] = {}
        self._vocab: Vocabulary | None = None

    # --- export ---------------------------------------------------------------------------------

    def filter_export(self, queryset: QuerySet[Item], **kwargs: Any) -> list[Item]:  # type: ignore[override]
        # Grouped by department kind: the main-item number starts with the kind's number
        # (520000-QR-01003-002 → 01003-002), which is how people read and edit the list.
        items = list(items_with_details().filter(pk__in=queryset.values("pk")))
        return sorted(items, key=export_sort_key)

    def export_field(self, field: fields.Field, instance: Item, **kwargs: Any) -> Any:
        # One serialisation per instance, shared by its 19 columns.
        row = instance.__dict__.get("_catalog_row")
        if row is None:
            row = instance.__dict__["_catalog_row"] = item_to_row(instance)
        key = KEY_BY_HEADER[field.column_name]
        value = row[key]
        return int(value) if key in INTEGER_KEYS else value

    # --- import ---------------------------------------------------------------------------------

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        headers = [KEY_BY_HEADER.get(str(h).strip(), str(h).strip()) if h is not None else "" for h in dataset.headers]
        missing = missing_columns(dataset.headers or [])
        self._vocab = None
        if missing:
            raise CatalogImportError([_missing_columns_message(missing)])
        # Accept English keys as headers too: the id field is looked up by its Chinese header.
        dataset.headers = [HEADERS.get(h, h) for h in headers]
        self._vocab = Vocabulary.from_db()
        self._specs.clear()
        self._seen.clear()

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        number = kwargs["row_number"]
        line = line_number(number)
        if self._vocab is None:
            # before_import refused the file (missing columns): say so on every row too.
            raise ValidationError(
                {NON_FIELD_ERRORS: [_("第 %(line)s 行：未导入（文件缺少必需的列）") % {"line": line}]}
            )
        if all(v in (None, "") for v in row.values()):
            raise ValidationError({NON_FIELD_ERRORS: [_("第 %(line)s 行：空行，请删除") % {"line": line}]})
        try:
            spec = parse_row(row, self._vocab)
        except RowError as e:
            raise ValidationError(e.prefixed(line)) from None
        if spec.code in self._seen:
            raise ValidationError(
                {
                    HEADERS["code"]: [
                        _("第 %(line)s 行：事项编码「%(code)s」与第 %(first)s 行重复")
                        % {"line": line, "code": spec.code, "first": line_number(self._seen[spec.code])}
                    ]
                }
            )
        self._seen[spec.code] = number
        self._specs[number] = spec

    def import_instance(self, instance: Item, row: dict[str, Any], **kwargs: Any) -> None:
        spec = self._specs[kwargs["row_number"]]
        instance.code = spec.code
        for attr, value in spec.item_fields().items():
            setattr(instance, attr, value)

    def validate_instance(
        self, instance: Item, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        # The row parser has checked every column; full_clean() adds the model's own checks
        # (the committed ≤ legal constraint included) in case the two ever drift apart.
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as e:
            line = line_number(self._row_number_of(instance))
            raise ValidationError({k: [_on_line(line, m) for m in v] for k, v in e.message_dict.items()}) from None

    def _row_number_of(self, instance: Item) -> int:
        return self._seen.get(instance.code, 0)

    def save_instance(self, instance: Item, is_create: bool, row: dict[str, Any], **kwargs: Any) -> None:
        spec = self._specs[kwargs["row_number"]]
        try:
            upsert_items(specs=[spec])
        except ValidationError as e:
            line = line_number(kwargs["row_number"])
            raise ValidationError({HEADERS["materials"]: [_on_line(line, m) for m in e.messages]}) from None
        instance.pk = Item.objects.values_list("pk", flat=True).get(code=spec.code)
        instance.__dict__.pop("_catalog_row", None)

    def save_m2m(self, instance: Item, row: dict[str, Any], **kwargs: Any) -> None:
        """Zones, joint kinds and materials were written by upsert_items in save_instance."""

    def import_data(self, dataset: tablib.Dataset, *args: Any, **kwargs: Any) -> Any:
        result = super().import_data(dataset, *args, **kwargs)
        # import-export numbers data rows from 1; people read the spreadsheet's own row numbers,
        # where the header is row 1 (the messages already say "第 n 行" in that numbering).
        for invalid in result.invalid_rows:
            invalid.number = line_number(invalid.number)
        return result

    def after_import(self, dataset: tablib.Dataset, result: Any, **kwargs: Any) -> None:
        # An imported item may bring a kind or level no department exists for yet: create them in
        # the same transaction so every imported item is routable at once.
        if not kwargs.get("dry_run") and not result.has_errors() and not result.has_validation_errors():
            from services.catalog_data import load_departments

            load_departments()


def _on_line(line: int, message: str) -> str:
    return _("第 %(line)s 行：%(message)s") % {"line": line, "message": message}


def _missing_columns_message(missing: list[str]) -> str:
    return _("文件缺少必需的列：%(columns)s（第 1 行应为标题行）") % {
        "columns": pgettext("list separator", "、").join(missing)
    }


def _unsupported_type_message(what: str) -> str:
    return _("不支持的文件类型「%(ext)s」，请使用 .csv 或 .xlsx") % {"ext": what}


def result_messages(result: Any) -> list[str]:
    """Every problem of an import result as Chinese lines, in row order."""
    messages: list[str] = []
    for error in result.base_errors:
        exc = error.error
        messages.extend(
            exc.messages if isinstance(exc, CatalogImportError) else [_("文件无法导入：%(error)s") % {"error": exc}]
        )
    for invalid in result.invalid_rows:
        for msgs in invalid.error_dict.values():
            messages.extend(str(m) for m in msgs)
    for error_row in result.error_rows:
        messages.extend(
            _("第 %(line)s 行：导入出错（%(error)s）") % {"line": line_number(error_row.number), "error": e.error}
            for e in error_row.errors
        )
    return messages


def read_dataset(path: str, content: bytes) -> tablib.Dataset:
    """A tablib Dataset from a .csv (UTF-8, with or without BOM) or .xlsx file's bytes."""
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if ext not in FORMATS:
        raise CatalogImportError([_unsupported_type_message(ext or path)])
    fmt = FORMATS[ext]()
    try:
        if ext == "csv":
            return fmt.create_dataset(content.decode("utf-8-sig"))
        return fmt.create_dataset(content)
    except UnicodeDecodeError:
        raise CatalogImportError([_("CSV 文件不是 UTF-8 编码，请另存为“CSV UTF-8”或使用 .xlsx")]) from None
    except Exception as e:  # a corrupt workbook raises zipfile/openpyxl errors of many kinds
        raise CatalogImportError([_("文件无法读取：%(error)s") % {"error": e}]) from None


def import_catalog_file(path: str, content: bytes, *, dry_run: bool = False) -> Any:
    """Validate and import a catalog file; raise CatalogImportError listing every problem.

    Side effects (unless dry_run or any problem): items, zones/joint links and materials are
    written and missing departments created, all in one transaction.
    """
    dataset = read_dataset(path, content)
    if not dataset.headers:
        raise CatalogImportError([_("文件为空或没有标题行")])
    missing = missing_columns(dataset.headers)
    if missing:
        raise CatalogImportError([_missing_columns_message(missing)])
    if not len(dataset):
        raise CatalogImportError([_("文件中没有事项数据")])
    result = ItemResource().import_data(
        dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False
    )
    messages = result_messages(result)
    if messages:
        raise CatalogImportError(messages)
    return result


def export_catalog_bytes(path: str, queryset: QuerySet[Item] | None = None) -> bytes:
    """The catalog (all items, inactive ones included) as .csv (UTF-8) or .xlsx bytes."""
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if ext not in FORMATS:
        raise CatalogImportError([_unsupported_type_message(ext or path)])
    dataset = ItemResource().export(queryset if queryset is not None else Item.objects.all())
    data = FORMATS[ext]().export_data(dataset)
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


class DepartmentKindResource(resources.ModelResource):
    class Meta:
        model = DepartmentKind
        fields = ("code", "name", "name_patterns")
        import_id_fields = ("code",)


class IndustryZoneResource(resources.ModelResource):
    class Meta:
        model = IndustryZone
        fields = ("code", "name")
        import_id_fields = ("code",)
