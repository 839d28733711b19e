"""JSON request bodies with a size and a depth limit (a deeply nested body was a 500 with a traceback).

Python's json module recurses once per nesting level: `[[[[...]]]]` 100,000 deep raised
RecursionError inside DRF's parser, which no handler turned into a 400. Here the body is read up to
JSON_MAX_BYTES (413 beyond), parsed with the recursion error caught, and any document nested deeper
than JSON_MAX_DEPTH is refused — all as ParseError, i.e. a 400 in the API's error shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative: the check itself must not recurse on the document it is guarding against.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        max_bytes = int(settings.JSON_MAX_BYTES)
        max_depth = int(settings.JSON_MAX_DEPTH)
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read(max_bytes + 1) if stream is not None else b""
        if len(raw) > max_bytes:
            raise PayloadTooLarge(_("请求内容过大（不能超过 %(kb)s KB）。") % {"kb": max_bytes // 1024})
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_reject_constant)
        except RecursionError:
            raise exceptions.ParseError(_("JSON 嵌套层数过多。")) from None
        except (ValueError, UnicodeDecodeError):
            raise exceptions.ParseError(_("请求内容不是有效的 JSON。")) from None
        if _depth_exceeds(data, max_depth):
            raise exceptions.ParseError(_("JSON 嵌套层数过多（不能超过 %(n)s 层）。") % {"n": max_depth})
        return data


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON and no field of ours accepts them.
    raise ValueError(name)
