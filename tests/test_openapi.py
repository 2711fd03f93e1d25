"""The committed OpenAPI document matches the API; regenerate with scripts/openapi.py."""

import importlib.util
import json
from pathlib import Path

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
