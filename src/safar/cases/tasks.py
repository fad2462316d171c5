"""Cases opened by the rules, inside the ingestion's identity transaction.

``CaseRules.write`` is an ``Applier.in_transaction`` writer: the cases (and the jobs storing
their timeline events) commit with the identities, before the events are stored, so a crash
in between replays the rows, and the source keys open nothing twice.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from safar.cases import rules, service
from safar.events.rows import EventRow
from safar.kit.container import Clock
from safar.kit.jobs import Jobs


class CaseRules:
    def __init__(self, jobs: Jobs, clock: Clock) -> None:
        self.jobs = jobs
        self.clock = clock

    def write(self, session: Session, rows: list[EventRow]) -> None:
        """Open the cases the rows ask for (a cheap name check first: most batches ask none)."""
        watched = [r for r in rows if r["event"] in rules.WATCHED]
        if not watched:
            return
        by_workspace: dict[str, list[EventRow]] = defaultdict(list)
        for row in watched:
            by_workspace[row["workspace_id"]].append(row)
        now = self.clock()
        for workspace_id, ws_rows in by_workspace.items():
            requests = rules.requests_of(ws_rows)
            if requests:
                service.open_requested(
                    session, self.jobs, workspace_id=workspace_id, requests=requests, now=now
                )
