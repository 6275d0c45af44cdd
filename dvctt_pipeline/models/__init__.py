"""The derived tables: SQL files of `dbt_like_sql/`, read, ordered and run against DuckDB."""
