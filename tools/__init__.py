"""The command-line tools (`make viewer`, `make check-server`, the Orthanc peer, the student copies):
scripts, and a package so that the tests and benchmarks import them by name."""
