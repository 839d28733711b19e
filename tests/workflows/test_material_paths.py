"""The material URLs the case responses show are remembered per process: always reverse()'s answer."""

from __future__ import annotations

from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import translation

from workflows.serializers import _material_path

NAMES = ("workflows:api-material-file", "workflows:api-material-preview")


def test_the_remembered_path_is_reverses_under_every_prefix_and_language():
    try:
        for prefix in ("/", "/tongban/", "/"):
            set_script_prefix(prefix)
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    for name in NAMES:
                        for number in ("520302-20261204-000001", "520302-20261204-000001-02", "中文"):
                            for pk in (1, 2, 10**12):
                                assert _material_path(name, number, pk) == reverse(name, args=[number, pk])
    finally:
        clear_script_prefix()
