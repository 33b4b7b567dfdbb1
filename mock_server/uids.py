"""DICOM UID validation as the Azure DICOM service's code does it (UidValidation.cs)."""

import re

from .errors import bad_request

# Digits and dots only, ending in a digit, at most 64 characters once trailing spaces are trimmed.
# ("$" also matches before a final newline, as in .NET's Regex.)
_UID = re.compile(r"^[0-9.]*[0-9]$")


def is_valid_uid(value: str) -> bool:
    """Whether ``value`` passes Azure's UID check (trailing spaces ignored)."""
    value = value.rstrip(" ")
    return len(value) <= 64 and bool(_UID.match(value))


def check_uid(value: str, name: str = "UID") -> str:
    """Return the UID without trailing spaces, or raise Azure's 400 (InvalidIdentifierException).

    ``name`` is what Azure's validators pass (``nameof(StudyInstanceUid)``…); the value is not echoed.
    """
    if not is_valid_uid(value):
        raise bad_request(f"Dicom element '{name}' failed validation for VR 'UI': DICOM Identifier is invalid. "
                          "Value length should not exceed the maximum length of 64 characters. Value should "
                          "contain characters in '0'-'9' and '.'. Each component must start with non-zero "
                          "number.")
    return value.rstrip(" ")
