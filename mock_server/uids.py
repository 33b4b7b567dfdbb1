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
    """Return the UID without trailing spaces, or raise a 400 naming the bad value."""
    if not is_valid_uid(value):
        raise bad_request(f"DICOM100: {name} - Dicom element '{name}' failed validation for VR 'UI': "
                          f"The value '{value[:80]}' is not a valid DICOM UID.")
    return value.rstrip(" ")
