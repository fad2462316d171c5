"""``safar jobs ...``: the scheduler's queue for an operator, dead letters first.

``failed`` jobs are the dead letters (a channel refused them, or failed ``Guards.max_attempts``
times); ``retry`` queues one again. ``uncertain`` jobs may have reached the customer and are
never resent. Only the state store is opened, so this works beside a running server (whose
scheduler picks a re-queued job up on its next pass).
"""

from __future__ import annotations

from typing import Annotated

import typer

from safar.db import utcnow
from safar.kit.cli import state_session
from safar.orchestration import service

app = typer.Typer(help="Scheduled jobs: list them, retry failed ones", no_args_is_help=True)


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="pending, done, skipped, failed, uncertain, ...")
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="only this workspace")
    ] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 100,
) -> None:
    """List jobs, newest first: id, workspace, status, reason, channel, key, outcome."""
    with state_session() as session:
        jobs = service.all_jobs(session, status=status, workspace_id=workspace, limit=limit)
        for j in jobs:
            typer.echo(
                "\t".join(
                    (
                        str(j.id),
                        j.workspace_id,
                        j.status,
                        j.reason or "-",
                        j.channel or "-",
                        str(j.attempts),
                        j.dedupe_key,
                        j.outcome or "",
                    )
                )
            )


@app.command("retry")
def retry(
    job_id: Annotated[int, typer.Argument(help="the job's id (see `safar jobs list`)")],
) -> None:
    """Queue a failed job again (never an uncertain or finished one)."""
    with state_session() as session:
        job = service.retry_job(session, job_id=job_id, now=utcnow())
        typer.echo(f"job {job.id} queued again")
