"""In-process, table-driven tests of the pure parsers."""
