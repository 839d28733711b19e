"""The import contracts of pyproject.toml's [tool.importlinter] (docs/ARCHITECTURE.md): the code keeps
them, and each contract really catches the import it forbids — checked on a copy of the real import
graph with one wrong import added, so a contract whose module patterns match nothing cannot pass
silently.

import-linter runs in a child process: in the test process some plugin has already decorated
``abc.ABC`` with zope.interface's ``__provides__``, which import-linter's option parsing trips over.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WRONG_IMPORTS = [
    # A lower app reaching up: accounts must not know halls (posts are halls' business).
    ("layers", "accounts.models", "halls.models"),
    ("layers", "workdays.calendar", "workflows.models"),
    ("layers", "halls.actions", "workflows.actions"),
    ("layers", "ledger.models", "workflows.models"),
    # The bottom package importing an app of ours.
    ("core-bottom", "core.phones", "accounts.models"),
    # Domain code raising HTTP exceptions (DRF) instead of core.errors.
    ("domain-no-http", "halls.actions", "rest_framework"),
    ("domain-no-http", "workflows.selectors", "rest_framework"),
    ("domain-no-http", "core.phones", "rest_framework"),
    # Code reaching for the URLconf (reverse() by name instead).
    ("no-urlconf", "workflows.views", "config.urls"),
    # A config helper the apps import reaching back into an app (config <-> app cycle).
    ("config-helpers", "config.api_errors", "workflows.actions"),
    # A cycle between two modules of one app.
    ("acyclic-apps", "workdays.models", "workdays.checks"),
]

CHECK = r"""
import json, sys
from copy import deepcopy

import grimp
from importlinter import configuration
from importlinter.application.use_cases import read_user_options
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract

configuration.configure()
types = {"layers": LayersContract, "forbidden": ForbiddenContract, "independence": IndependenceContract,
         "acyclic_siblings": AcyclicSiblingsContract}
options = read_user_options("pyproject.toml")
session = options.session_options
graph = grimp.build_graph(
    *session["root_packages"],
    include_external_packages=True,
    exclude_type_checking_imports=bool(session.get("exclude_type_checking_imports")),
    cache_dir=None,
)
contracts = {raw["id"]: raw for raw in options.contracts_options}

def kept(contract_id, g):
    raw = contracts[contract_id]
    contract = types[raw["type"]](name=raw["name"], session_options=session, contract_options=raw)
    return bool(contract.check(deepcopy(g), verbose=False).kept)

out = {"real": {cid: kept(cid, graph) for cid in contracts}, "wrong": []}
for contract_id, importer, imported in json.loads(sys.argv[1]):
    wrong = deepcopy(graph)
    existed = wrong.direct_import_exists(importer=importer, imported=imported)
    if contract_id == "acyclic-apps":
        # Close the cycle whatever the two modules import today.
        wrong.add_import(importer=imported, imported=importer, line_number=1, line_contents="import")
    wrong.add_import(importer=importer, imported=imported, line_number=1, line_contents="import " + imported)
    out["wrong"].append([contract_id, importer, imported, existed, kept(contract_id, wrong)])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def checked() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, json.dumps(WRONG_IMPORTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout)


def test_lint_imports_passes() -> None:
    """What `make lint` and .ci/run run: every contract kept."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_contract_is_kept_on_the_real_graph(checked: dict) -> None:
    assert set(checked["real"]) >= {
        "layers",
        "no-urlconf",
        "domain-no-http",
        "core-bottom",
        "config-helpers",
        "acyclic-apps",
    }
    assert all(checked["real"].values()), checked["real"]


@pytest.mark.parametrize(("index", "case"), list(enumerate(WRONG_IMPORTS)), ids=[":".join(c) for c in WRONG_IMPORTS])
def test_a_wrong_import_breaks_its_contract(checked: dict, index: int, case: tuple[str, str, str]) -> None:
    contract_id, importer, imported, existed, kept = checked["wrong"][index]
    assert (contract_id, importer, imported) == case
    assert not existed or contract_id == "acyclic-apps", "the wrong import is already in the code"
    assert not kept, f"{importer} -> {imported} should break {contract_id}"
