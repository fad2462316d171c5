"""The demo's journeys: five of the shipped ones, published before the events load.

Published first, so the newest demo events (a cart left minutes ago, a detractor's answer
yesterday) make people enter as they would in production; events older than two days enter
nobody, as for any import. Running the demo again installs nothing twice (journeys are found
by name).
"""

from __future__ import annotations

from typing import Any

from safar.errors import ValidationFailed
from safar.flows import library, service
from safar.web.i18n import translations

#: Shipped journeys whose triggers the demo's events meet.
DEMO_JOURNEYS = (
    "abandoned_cart",
    "detractor_recovery",
    "win_back",
    "birthday_sms",
    "anniversary_eve",
)


def install(runtime: Any, workspace_id: str, messages: list[dict[str, Any]]) -> list[str]:
    """Create the demo journeys that are not there yet (found by name) and publish those whose
    events the data has; the ids of the published ones."""
    names = {str(m.get("event")) for m in messages if m.get("type") == "track" and m.get("event")}
    # The demo's dashboard opens in Persian: the journeys carry their Persian names, as when a
    # Persian-speaking user installs a template from the Automations page (steps' labels too).
    fa = translations("fa").gettext
    ids: list[str] = []
    with runtime.db.session() as s:
        existing = {f.name: f for f in service.list_flows(s, workspace_id=workspace_id)}
        for key in DEMO_JOURNEYS:
            definition = library.localized(key, fa)
            flow = existing.get(definition["name"])
            if flow is None:
                flow = service.create_flow(
                    s,
                    workspace_id=workspace_id,
                    definition=definition,
                    user="demo",
                    now=runtime.clock(),
                )
            if flow.status == "draft":
                try:
                    with s.begin_nested():
                        runtime.flows.publish(
                            s, workspace_id=workspace_id, flow_id=flow.id, also_known=names
                        )
                except ValidationFailed:
                    continue  # its events are not in this data (the real-data mode): a draft
            ids.append(flow.id)
    return ids
