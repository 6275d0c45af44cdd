"""Publishing the marts to the serving file that BI tools read."""
