"""Steps that run inside Superset's own virtual environment (setup.py calls them):

    python in_superset.py DASHBOARD_SLUG USER PASSWORD

reads each dataset's columns from the serving file (the bundle lists none, so that a new marts
column needs no edit here), then runs every chart's query through Superset's chart-data API,
as the dashboard does, and prints {chart name: rows} as JSON; exits 1 when a chart returns no
rows or an error.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _app():
    from superset.app import create_app

    return create_app()


def _dashboard(slug: str):
    from superset.models.dashboard import Dashboard

    dashboard = Dashboard.get(slug)
    if dashboard is None:
        raise SystemExit(f"Superset has no dashboard {slug!r}: the import did not run.")
    return dashboard


def refresh(app, slug: str) -> None:
    from superset.extensions import db

    with app.app_context():
        for dataset in {chart.table for chart in _dashboard(slug).slices}:
            dataset.fetch_metadata()
        db.session.commit()


def _query(params: dict[str, Any], suffix: str, engine: str) -> dict[str, Any]:
    """One query of a chart as its form data asks (suffix "_b": a mixed chart's second)."""
    from superset.utils.core import split_adhoc_filters_into_base_filters

    filters = {"adhoc_filters": params.get(f"adhoc_filters{suffix}", [])}
    split_adhoc_filters_into_base_filters(filters, engine)
    axis = [params["x_axis"]] if params.get("x_axis") else []
    return {
        "columns": axis + list(params.get(f"groupby{suffix}", [])),
        "metrics": params.get(f"metrics{suffix}", []),
        "filters": filters["filters"],
        "extras": {"where": filters["where"], "having": filters["having"],
                   "time_grain_sqla": params.get("time_grain_sqla")},
        "row_limit": params.get(f"row_limit{suffix}", 1000),
    }


def check(app, slug: str, user: str, password: str) -> int:
    with app.app_context():
        charts = [(chart.slice_name, chart.datasource_id, chart.table.database.backend,
                   json.loads(chart.params)) for chart in _dashboard(slug).slices]
    client = app.test_client()
    login = client.post("/api/v1/security/login", json={
        "username": user, "password": password, "provider": "db", "refresh": False})
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    rows = {}
    for name, dataset_id, engine, params in charts:
        suffixes = ["", "_b"] if params["viz_type"] == "mixed_timeseries" else [""]
        answer = client.post("/api/v1/chart/data", headers=headers, json={
            "datasource": {"id": dataset_id, "type": "table"},
            "queries": [_query(params, suffix, engine) for suffix in suffixes],
            "form_data": params, "result_format": "json", "result_type": "full"})
        if answer.status_code != 200:
            rows[name] = f"error {answer.status_code}: {answer.get_data(as_text=True)[:500]}"
            continue
        counts = [result["rowcount"] for result in answer.json["result"]]
        rows[name] = min(counts)
    print(json.dumps(rows, ensure_ascii=False))
    return 0 if all(isinstance(n, int) and n > 0 for n in rows.values()) else 1


def main(slug: str, user: str, password: str) -> int:
    app = _app()  # once: starting Superset takes many seconds
    refresh(app, slug)
    return check(app, slug, user, password)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
