"""Reading Azure's change feed in lesson 06: the sample study's entries, one printed line each.

An entry is a JSON object such as ``{"sequence": 7, "action": "Create", "state": "Current",
"sopInstanceUid": "…", "metadata": {…}, …}``. Azure's service writes the values in PascalCase and its
documentation in lower case, so they are compared here in lower case.
"""

from collections.abc import Iterable, Mapping

_partition: str | None = None


def set_partition(name: str | None) -> None:
    """Keep only this data partition's entries (``connect()`` calls this): Azure's change feed stays
    at the base URL and lists every partition's changes, each entry naming its ``partitionName``."""
    global _partition
    _partition = name


def _ours(entry: dict) -> bool:
    # Partition names ignore case on Azure (its SQL lookup), so compare them so here.
    return _partition is None or str(entry.get("partitionName", "")).lower() == _partition.lower()


def of_study(entries: Iterable[dict], study_uid: str) -> list[dict]:
    """The entries about one study (a shared server logs other changes at the same time), in this
    client's data partition when it has one."""
    return [entry for entry in entries if entry.get("studyInstanceUid") == study_uid and _ours(entry)]


def show_entries(entries: Iterable[dict], names: Mapping[str, str]) -> None:
    """Print one line per entry: sequence number, action, state, instance (by name) and whether
    the instance's metadata came along."""
    for entry in entries:
        name = names.get(entry["sopInstanceUid"], entry["sopInstanceUid"])
        extra = "  + metadata" if "metadata" in entry else ""
        print(f"#{entry['sequence']:<4} {entry['action']:<7} {entry['state']:<9} {name}{extra}")


def summary(entries: Iterable[dict], names: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(instance name, action, state) of each entry about the named instances, in lower case."""
    return [(names[entry["sopInstanceUid"]], entry["action"].lower(), entry["state"].lower())
            for entry in entries if entry.get("sopInstanceUid") in names and _ours(entry)]
