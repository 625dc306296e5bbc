"""The countries the demo's billing form offers: the EU member states first, then a few others."""

from __future__ import annotations

#: (ISO 3166-1 alpha-2 code, English name). Greece is GR here; VIES calls it EL.
EU_COUNTRIES: list[tuple[str, str]] = [
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("HR", "Croatia"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("GR", "Greece"),
    ("HU", "Hungary"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("LV", "Latvia"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("MT", "Malta"),
    ("NL", "Netherlands"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("SK", "Slovakia"),
    ("SI", "Slovenia"),
    ("ES", "Spain"),
    ("SE", "Sweden"),
]

OTHER_COUNTRIES: list[tuple[str, str]] = [
    ("AU", "Australia"),
    ("CA", "Canada"),
    ("IS", "Iceland"),
    ("JP", "Japan"),
    ("NO", "Norway"),
    ("CH", "Switzerland"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
]

#: Grouped choices, as a ``<select>`` with ``<optgroup>``s shows them.
COUNTRY_CHOICES: list[tuple[str, list[tuple[str, str]]]] = [
    ("European Union", EU_COUNTRIES),
    ("Elsewhere", OTHER_COUNTRIES),
]
