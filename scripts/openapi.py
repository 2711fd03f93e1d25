"""Write the committed OpenAPI document (docs/api/openapi.json) from the live API.

python scripts/openapi.py          # rewrite the file
python scripts/openapi.py --check  # exit 1 when the committed file has drifted
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "api" / "openapi.json"


def render() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    os.environ.setdefault("VEFA_TESTING", "1")
    import django

    django.setup()
    from vefa.config.api import api

    # The prefix as Django mounts the API (``path("api/v1/", api.urls)``), trailing slash
    # included: the paths of the apps' nested routers are joined to it without one.
    schema = api.get_openapi_schema(path_prefix="api/v1/")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} has drifted: run python scripts/openapi.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
