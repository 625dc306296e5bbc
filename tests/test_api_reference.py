"""docs/api.md is generated from the OpenAPI schema, so the REST API reference cannot drift.

Regenerate it after an API change with ``PYTHONPATH=. python tests/test_api_reference.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"

HEADER = """# REST API reference

<!-- Generated from the OpenAPI schema by tests/test_api_reference.py; do not edit by hand. -->

Every endpoint lives under the prefix the host includes the URLconf at (`/api/payment/` in the
quickstart). Authentication comes from the host's Django REST framework settings; every endpoint
but the plan catalog needs an authenticated user, and the customer is always the requester's own
(through the adapter), never one named by the client. Another customer's id answers the same 404
as a missing one.

Errors are JSON: field errors as DRF gives them (400), business rules as
`{"detail", "code"}` (400 or 409), and provider failures as `{"detail", "user_message", "code",
"retryable"}` (503 when retrying may help, 502 otherwise).

With the `schema` extra, the schema itself is served at `GET schema/` (OpenAPI 3).

The provider's webhook endpoint, `POST stripe/webhook/`, is not part of this API: see
[Webhooks](webhooks.md).
"""


def _type(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " & ".join(_type(s, components) for s in schema["allOf"])
    if "oneOf" in schema:
        return " | ".join(_type(s, components) for s in schema["oneOf"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}), components)}"
    kind = str(schema.get("type", "object"))
    if "format" in schema:
        kind += f" ({schema['format']})"
    if "enum" in schema:
        kind += ": " + ", ".join(f"`{v}`" for v in schema["enum"] if v not in ("", None))
    return kind


def _fields(name: str, components: dict[str, Any]) -> list[str]:
    schema = components.get(name, {})
    required = set(schema.get("required", []))
    lines = []
    for field, spec in schema.get("properties", {}).items():
        flags = []
        if field in required and not spec.get("readOnly"):
            flags.append("required")
        if spec.get("readOnly"):
            flags.append("read-only")
        note = f" ({', '.join(flags)})" if flags else ""
        lines.append(f"| `{field}` | {_type(spec, components)}{note} |")
    return lines


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _with_nested(names: set[str], components: dict[str, Any]) -> set[str]:
    """The schemas named, with the objects their fields hold (a plan's prices, ...)."""
    todo, seen = list(names), set(names)
    while todo:
        for ref in _refs(components.get(todo.pop(), {})):
            if ref not in seen and components.get(ref, {}).get("properties"):
                seen.add(ref)
                todo.append(ref)
    return seen


def render_api_reference(schema: dict[str, Any]) -> str:
    components = schema.get("components", {}).get("schemas", {})
    out = [HEADER]
    used: list[str] = []
    for path, operations in schema["paths"].items():
        if path.endswith("/schema/"):
            continue
        short = path.removeprefix("/api/payment/")
        for method, op in operations.items():
            out.append(f"## `{method.upper()} {short}`\n")
            description = (op.get("description") or op.get("summary") or "").strip()
            if description:
                out.append(description.replace("``", "`") + "\n")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                name = _type(body["schema"], components)
                out.append(f"Request body: [`{name}`](#{name.lower()}).\n")
                used.append(name)
            for code, response in op.get("responses", {}).items():
                content = response.get("content", {}).get("application/json")
                if content:
                    name = _type(content["schema"], components)
                    target = name.removeprefix("list of ")
                    used.append(target)
                    out.append(f"- `{code}`: [`{name}`](#{target.lower()})")
                else:
                    out.append(f"- `{code}`: {response.get('description', '').strip() or 'empty'}")
            out.append("")
    out.append("## Schemas\n")
    for name in sorted(_with_nested(set(used), components)):
        if name not in components:
            continue
        out.append(f"### {name}\n")
        description = (components[name].get("description") or "").strip()
        if description:
            out.append(description.replace("``", "`") + "\n")
        out.append("| field | type |\n|---|---|")
        out.extend(_fields(name, components))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def current_schema() -> dict[str, Any]:
    from django.test import Client

    response = Client().get("/api/payment/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content
    return json.loads(response.content)  # type: ignore[no-any-return]


def test_the_api_reference_matches_the_schema() -> None:
    expected = render_api_reference(current_schema())
    assert DOC.read_text() == expected, (
        "docs/api.md is out of date: run `PYTHONPATH=. python tests/test_api_reference.py`"
    )


if __name__ == "__main__":
    import os

    import django
    from django.test.utils import setup_test_environment

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    setup_test_environment()
    DOC.write_text(render_api_reference(current_schema()))
    print(f"wrote {DOC}")
