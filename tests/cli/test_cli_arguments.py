"""The command line refuses unusable month ranges with a message that says what to write."""

import pytest

from dvctt_pipeline.cli import main


@pytest.mark.parametrize(("first", "last", "message"), [
    ("2022-1", "2022-04", "write it as YYYY-MM"),
    ("2022-13", "2022-04", "write it as YYYY-MM"),
    ("2022-04", "2022-01", "is before --from"),
    ("2020-12", "2021-02", "partitions start in 2021-01"),
])
def test_bad_month_ranges_are_refused(first, last, message, capsys):
    assert main(["materialize", "--from", first, "--to", last]) == 2
    assert message in capsys.readouterr().err
