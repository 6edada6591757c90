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


async def _on_bus(command: object):
    """`command` on logistics' bus, in one transaction on a connection of its own."""
    from services.logistics.adapters.uow import PostgresLogisticsUnitOfWork
    from services.logistics.handlers import COMMAND_HANDLERS
    from shared.db.pool import connect
    from shared.messaging.bus import MessageBus
    from shared.settings import database_url_for

    conn = await connect(database_url_for("logistics"))
    try:
        bus = MessageBus(lambda: PostgresLogisticsUnitOfWork(conn), commands=COMMAND_HANDLERS)
        return await bus.handle(command)
    finally:
        await conn.close()


@logistics.command("hub-set")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def hub_set(path: str) -> None:
    """Create or replace hubs from a JSON file (one hub configuration or a list of them):
    coordinates, villages served, partner fleets and waves (see services/logistics/README.md)."""
    from services.logistics.commands import PutHubs
    from services.logistics.domain.config import HubConfig

    data = json.loads(Path(path).read_text())
    items = data if isinstance(data, list) else [data]
    try:
        configs = [HubConfig.model_validate(h) for h in items]
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="PATH") from exc

    asyncio.run(_on_bus(PutHubs(tuple(configs))))
    click.echo(f"hubs set: {', '.join(c.hub_id for c in configs)}")


@logistics.command("hubs")
@click.option("--json", "as_json", is_flag=True, help="Print the full configurations.")
def hubs(as_json: bool) -> None:
    """The network: hubs, their fleets and waves."""
    from services.logistics.commands import ListHubs

    configs = asyncio.run(_on_bus(ListHubs()))
    if as_json:
        click.echo(json.dumps([c.model_dump(mode="json") for c in configs], indent=2))
        return
    for c in configs:
        fleet = ", ".join(f"{v.count} x {v.name}" for v in c.vehicles())
        waves = ", ".join(
            f"{w.code} cut-off {w.cutoff} {w.window_start}-{w.window_end}" for w in c.waves
        )
        click.echo(
            f"{c.hub_id:<16} {c.lat:.4f},{c.lon:.4f} villages {len(c.villages) or 'nearest'}"
            f"; {fleet}; {waves}"
        )


def _kpi_table(kpis: dict) -> str:
    columns = ("plan", "one_trip_per_order", "one_trip_per_village")
    rows = (
        "cost",
        "km",
        "routes",
        "stops_per_route",
        "parcels_per_stop",
        "weight_fill",
        "volume_fill",
        "on_time_pct",
        "deferred",
        "cost_per_parcel",
        "km_per_parcel",
    )
    lines = [f"{'':18}" + "".join(f"{c:>22}" for c in columns)]
    for row in rows:
        lines.append(f"{row:18}" + "".join(f"{kpis[c][row]:>22,}" for c in columns))
    ratio = kpis["cost_ratio"]
    lines.append(
        f"plan cost = {ratio['vs_one_trip_per_order']:.3f} x one trip per order, "
        f"{ratio['vs_one_trip_per_village']:.3f} x one trip per village"
    )
    return "\n".join(lines)
