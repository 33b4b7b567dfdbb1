"""The values Azure's QIDO-RS index keeps for an instance's study and series, and how they are matched.

Each indexed attribute is kept as the DICOM JSON element answered (first value only, nothing when
empty: Azure's index columns) and as a folded key compared in SQL:

* strings: trailing spaces dropped and case folded (SQL Server's padded, case-insensitive compare);
* person names: accents folded too (Azure's PN columns use an accent-insensitive collation), and
  split into words for fuzzy matching, which matches a prefix of any word (full-text ``"w*"``);
* dates: ``yyyyMMdd`` of a valid date, so ranges compare as text.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from .qido_tags import tag_of

_NAME_SPLIT = re.compile(r"[\s^=,]+")
_DA = re.compile(r"[0-9]{8}")


@dataclass(frozen=True)
class Column:
    """One indexed attribute: its JSON key, the SQL column stem and how it is folded."""

    tag: str
    name: str
    kind: str  # "string", "name" or "date"


STUDY_COLUMNS = (
    Column(tag_of("PatientID"), "patient_id", "string"),
    Column(tag_of("PatientName"), "patient_name", "name"),
    Column(tag_of("ReferringPhysicianName"), "referring_physician", "name"),
    Column(tag_of("StudyDate"), "study_date", "date"),
    Column(tag_of("StudyDescription"), "study_description", "string"),
    Column(tag_of("AccessionNumber"), "accession_number", "string"),
    Column(tag_of("PatientBirthDate"), "patient_birth_date", "date"),
)
SERIES_COLUMNS = (
    Column(tag_of("Modality"), "modality", "string"),
    Column(tag_of("PerformedProcedureStepStartDate"), "pps_start_date", "date"),
    Column(tag_of("ManufacturerModelName"), "manufacturer_model", "string"),
)
COLUMN_OF = {c.tag: c for c in STUDY_COLUMNS + SERIES_COLUMNS}


def first_value(element: dict | None) -> str | None:
    """The first value of a DICOM JSON element as text (PN groups joined by ``=``), or None."""
    values = (element or {}).get("Value")
    if not values or values[0] is None:
        return None
    value = values[0]
    if isinstance(value, dict):
        text = "=".join(str(value.get(k, "")) for k in ("Alphabetic", "Ideographic", "Phonetic"))
        return text.rstrip("=") or None
    return str(value)


def fold_case(text: str) -> str:
    # SQL Server compares padded strings: trailing spaces never matter.
    return text.rstrip(" ").casefold()


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return fold_case("".join(c for c in decomposed if not unicodedata.combining(c)))


def name_words(text: str) -> list[str]:
    """The folded words of a person name (or of a fuzzy query for one)."""
    return [w for w in _NAME_SPLIT.split(fold_accents(text)) if w]


def date_key(text: str | None) -> str | None:
    """``yyyyMMdd`` when ``text`` is a valid DA value, else None."""
    text = (text or "").strip()
    if not _DA.fullmatch(text):
        return None
    try:
        date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return text


def match_key(column: Column, text: str) -> str | None:
    """The folded form of ``text`` compared against ``column``'s key."""
    if column.kind == "date":
        return date_key(text)
    if column.kind == "name":
        return fold_accents(text)
    return fold_case(text)


def indexed_element(element: dict | None) -> dict | None:
    """An index column as Azure's index holds it: first value only, nothing when empty."""
    if element is None:
        return None
    value = element.get("Value")
    if not value or value[0] in (None, "", {}):
        return None
    return {"vr": element["vr"], "Value": [value[0]]}


@dataclass(frozen=True)
class IndexedValue:
    """What one instance brings to one column: None for both when it has no value (ISNULL keeps the old)."""

    json: str | None
    key: str | None
    words: tuple[str, ...] = ()


def instance_values(metadata: dict[str, Any], columns: tuple[Column, ...]) -> dict[str, IndexedValue]:
    """The index values an instance's metadata gives each of ``columns``."""
    out = {}
    for column in columns:
        element = indexed_element(metadata.get(column.tag))
        if element is None:
            out[column.name] = IndexedValue(None, None)
            continue
        text = first_value(element) or ""
        words = tuple(dict.fromkeys(name_words(text))) if column.kind == "name" else ()
        out[column.name] = IndexedValue(json.dumps(element, ensure_ascii=False, separators=(",", ":")),
                                        match_key(column, text), words)
    return out
