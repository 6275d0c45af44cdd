"""The national-scale benchmark (issue 6): `make bench`, or `python -m benchmarks.run --help`."""
