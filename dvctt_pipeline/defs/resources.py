"""The warehouse resource: paths from the environment and one way to open the DuckDB file."""


from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.settings import MIN_DOSSIERS_TO_RANK, memory_limit_from_env, paths_from_env
from dvctt_pipeline.warehouse import ensure_base_tables


class Warehouse(DuckDBResource):
    """The working DuckDB file, the landing folder it loads from and the file BI reads."""

    landing_dir: str
    serving_path: str
    min_dossiers: int = MIN_DOSSIERS_TO_RANK

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def serving(self) -> Path:
        return Path(self.serving_path)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with the schemas in place and the SQL models' helper functions."""
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with self.get_connection() as con:
            try:
                # a run's output goes to its log and the command's console: no progress bars
                con.execute("SET enable_progress_bar = false")
                ensure_base_tables(con)
                con.create_function("name_key", name_key, [str], str)
                yield con
            finally:
                con.close()

    def model_settings(self) -> dict[str, object]:
        """Values the SQL models may take as parameters besides the window."""
        return {"min_dossiers": self.min_dossiers}


def warehouse_from_env() -> Warehouse:
    paths = paths_from_env()
    return Warehouse(
        database=str(paths.warehouse),
        connection_config={"memory_limit": memory_limit_from_env()},
        landing_dir=str(paths.landing),
        serving_path=str(paths.serving),
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": warehouse_from_env()})
