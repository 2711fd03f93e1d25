"""The committed OpenAPI document matches the API; regenerate with scripts/openapi.py."""

import importlib.util
import json
import re
from pathlib import Path

from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent


def test_committed_openapi_document_matches_the_api():
    spec = importlib.util.spec_from_file_location("vefa_openapi", ROOT / "scripts" / "openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "api" / "openapi.json").read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(module.render()), (
        "docs/api/openapi.json has drifted from the API: run `python scripts/openapi.py`"
    )


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Vefa API"


def test_every_documented_path_is_a_real_address():
    # The document is what integrators read: each path in it must reach an operation.
    committed = json.loads((ROOT / "docs" / "api" / "openapi.json").read_text(encoding="utf-8"))
    wrong = []
    for path in committed["paths"]:
        concrete = re.sub(r"{[^}]+}", "1", path)
        try:
            resolve(concrete)
        except Resolver404:
            wrong.append(path)
    assert committed["paths"], "the document lists no paths"
    assert wrong == []


def test_openapi_document_is_served_with_the_same_paths(client):
    served = client.get("/api/v1/openapi.json").json()
    committed = json.loads((ROOT / "docs" / "api" / "openapi.json").read_text(encoding="utf-8"))
    assert set(served["paths"]) == set(committed["paths"])
