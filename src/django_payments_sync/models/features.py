"""A plan's features and limits, read from its product's ``metadata`` (the one reading, for the
plan catalog, the entitlement checks and the push of features to the provider)."""

from __future__ import annotations

from typing import Any

#: Product metadata keys that are not features (the library's own bookkeeping).
_RESERVED_METADATA_PREFIXES = ("payments_sync", "_")


def features_from_metadata(metadata: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Split product metadata into a feature list and a dict of limits.

    ``metadata["features"]`` (a list, or a comma- or newline-separated string) lists the
    features; every other key is a limit (``{"seats": "5"}``), numbers given as strings read
    as numbers so that a frontend can compare them.
    """
    raw = metadata.get("features", [])
    if isinstance(raw, str):
        separator = "\n" if "\n" in raw else ","
        features = [part.strip() for part in raw.split(separator) if part.strip()]
    else:
        features = [str(item) for item in raw or []]
    limits: dict[str, Any] = {}
    for key, value in metadata.items():
        if key == "features" or key.startswith(_RESERVED_METADATA_PREFIXES):
            continue
        limits[key] = _number_or_text(value)
    return features, limits


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return value
