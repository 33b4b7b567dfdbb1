"""The departures table stays honest: every entry is asserted by a test, and names a real server."""

from pathlib import Path

from tests.standard.departures import DEPARTURES

HERE = Path(__file__).parent
SERVERS = {"emulator", "orthanc"}


def test_every_departure_is_asserted_by_a_test():
    tests = "".join(p.read_text() for p in HERE.glob("test_standard_*.py") if p.name != Path(__file__).name)
    unused = [key for key in DEPARTURES if f'"{key}"' not in tests]
    assert unused == []


def test_every_departure_names_servers_and_both_outcomes():
    for key, departure in DEPARTURES.items():
        assert departure.servers and departure.servers <= SERVERS, key
        assert departure.rule.startswith("PS3.18"), key
        assert departure.standard and departure.observed and departure.standard != departure.observed, key
