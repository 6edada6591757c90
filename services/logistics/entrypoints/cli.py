"""`ovop logistics ...`: the operator's commands for the logistics service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
from pydantic import ValidationError


@click.group()
def logistics() -> None:
    """Logistics service commands."""


@logistics.command()
@click.option("--scenario", "scenario_path", required=True, type=click.Path(exists=True))
@click.option("--seconds", default=10.0, show_default=True, help="The solver's time limit.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write the plan here.")
@click.option("--seed", default=0, show_default=True)
@click.option("--iterations", type=int, help="Also stop after this many iterations.")
def plan(
    scenario_path: str, seconds: float, out_path: str | None, seed: int, iterations: int | None
) -> None:
    """Plan a what-if scenario and print its KPIs beside both baselines."""
    from services.logistics.domain.matrix import HaversineProvider
    from services.logistics.domain.scenario import Scenario, plan_output
    from services.logistics.solving import default_solver, plan_problem

    try:
        scenario = Scenario.model_validate_json(Path(scenario_path).read_text())
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from exc
    provider = HaversineProvider(scenario.road_factor, scenario.speed_kmh)
    solver = default_solver()
    try:
        planned = asyncio.run(
            plan_problem(
                scenario.problem(),
                provider,
                solver,
                seconds=seconds,
                seed=seed,
                max_iterations=iterations,
            )
        )
    finally:
        solver.close()
    out = plan_output(planned.plan, planned.matrix, planned.kpis)
    if out_path:
        Path(out_path).write_text(json.dumps(out, indent=2) + "\n")
    click.echo(_kpi_table(planned.kpis))
    click.echo(
        f"routes {len(out['routes'])}, deferred {len(out['deferred'])}, "
        f"unserved {len(out['unserved'])}, late {len(out['late'])}; "
        f"cost {out['cost']:,} km {out['km']:,}"
    )


def _kpi_table(kpis: dict) -> str:
    columns = ("plan", "one_trip_per_order", "one_trip_per_village")
    rows = ("cost", "km", "routes", "stops_per_route", "parcels_per_stop", "weight_fill",
            "volume_fill", "on_time_pct", "deferred", "cost_per_parcel", "km_per_parcel")
    lines = [f"{'':18}" + "".join(f"{c:>22}" for c in columns)]
    for row in rows:
        lines.append(f"{row:18}" + "".join(f"{kpis[c][row]:>22,}" for c in columns))
    ratio = kpis["cost_ratio"]
    lines.append(
        f"plan cost = {ratio['vs_one_trip_per_order']:.3f} x one trip per order, "
        f"{ratio['vs_one_trip_per_village']:.3f} x one trip per village"
    )
    return "\n".join(lines)
