"""Row rules and Great Expectations suites: what makes a record or a table fit to publish."""
