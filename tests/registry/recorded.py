"""Answers of OPH's organisation service in the shapes its clients have recorded over the years.

Each function returns the JSON of one answer (`GET /api/{oid}`), varied by keyword.
"""

from __future__ import annotations

from typing import Any

ROOT = "1.2.246.562.10.00000000001"
LEMPAALA = "1.2.246.562.10.74484103937"  # Lempäälän kunta, Y-tunnus 0150783-1
LEMPAALA_SCHOOL = "1.2.246.562.10.2013121014482686198719"  # a timestamp OID
HELSINKI = "1.2.246.562.10.346830761110"  # 12 digits ending in 10
UNKNOWN = "1.2.246.562.10.99999999999"

# 31 July 2024 at midnight in Finland (21:00 UTC the day before), as epoch milliseconds.
JULY_31_2024_MS = 1722373200000


def current(oid: str = LEMPAALA, **changes: Any) -> dict[str, Any]:
    """Today's single-organisation answer: koodi URIs, an ISO date, a pipe-delimited path."""
    answer = {
        "oid": oid,
        "version": 41,
        "nimi": {"fi": "Lempäälän kunta", "sv": "Lembois kommun", "en": "Municipality of Lempäälä"},
        "ytunnus": "0150783-1",
        "kotipaikkaUri": "kunta_418",
        "kieletUris": ["oppilaitoksenopetuskieli_1#1"],
        "tyypit": ["organisaatiotyyppi_01", "organisaatiotyyppi_09"],
        "status": "AKTIIVINEN",
        "alkuPvm": "1970-01-01",
        "parentOid": ROOT,
        "parentOidPath": f"|{ROOT}|",
    }
    answer.update(changes)
    return {key: value for key, value in answer.items() if value is not ...}


def older(oid: str = LEMPAALA_SCHOOL, **changes: Any) -> dict[str, Any]:
    """An older, hierarchy-style answer: type names, epoch milliseconds, no status, a
    slash-delimited path, no business ID (a school has none), a name in Finnish only."""
    answer = {
        "oid": oid,
        "nimi": {"fi": "Lempäälän lukio"},
        "tyypit": ["Oppilaitos", "Toimipiste"],
        "lakkautusPvm": JULY_31_2024_MS,
        "parentOidPath": f"{ROOT}/{LEMPAALA}",
    }
    answer.update(changes)
    return {key: value for key, value in answer.items() if value is not ...}
