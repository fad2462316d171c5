"""Customer 360: search by any identifier, the profile, its history and its timeline."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safar.errors import NotFound
from safar.events.channels import CHANNELS
from safar.events.deps import EventsDep
from safar.events.messages import MESSAGE_TYPES
from safar.identity import service as identity
from safar.identity.schemas import TraitObservation
from safar.identity.search import search_profiles
from safar.web import customer360
from safar.web.i18n import N_
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, need, render

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("customers", "/customers", N_("Customers"), "users", order=20))


def display_name(traits: dict[str, Any]) -> str | None:
    name = traits.get("name") or " ".join(
        str(traits[k])
        for k in ("first_name", "last_name", "firstName", "lastName")
        if traits.get(k)
    )
    return str(name) if name else None


def _workspace(page: Page) -> str:
    if page.workspace_id is None:
        raise NotFound("workspace: there is no workspace yet; create one in Settings")
    return page.workspace_id


@router.get("/customers", response_class=HTMLResponse)
def customers(page: PageDep, q: Annotated[str, Query(max_length=320)] = "") -> Response:
    ws = page.workspace_id
    hits: list[dict[str, Any]] = []
    if ws is not None:
        ids, exact = search_profiles(page.session, workspace_id=ws, query=q)
        if q and exact and len(ids) == 1:
            return RedirectResponse(f"/customers/{ids[0]}", status_code=303)
        for pid in ids:
            idents = identity.identities_of(page.session, pid)
            traits = identity.current_traits(page.session, [i.id for i in idents])
            hits.append(
                {
                    "id": pid,
                    "name": display_name(traits),
                    "email": traits.get("email")
                    or next((i.value for i in idents if i.type == "email"), None),
                    "phone": traits.get("phone")
                    or next((i.value for i in idents if i.type == "phone"), None),
                    "identities": len(idents),
                }
            )
    return render(page, "customers.html", q=q, hits=hits, nav_key="customers")


@router.get("/customers/{profile_id}", response_class=HTMLResponse)
def profile(
    profile_id: str,
    page: PageDep,
    runtime: EventsDep,
    channel: Annotated[list[str] | None, Query()] = None,
    type: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    ws = _workspace(page)
    prof = identity.get_profile(page.session, workspace_id=ws, profile_id=profile_id[:40])
    if prof.id != profile_id:
        return RedirectResponse(f"/customers/{prof.id}", status_code=303)
    history: OrderedDict[str, list[TraitObservation]] = OrderedDict()
    for obs in identity.trait_history(page.session, workspace_id=ws, profile_id=prof.id):
        history.setdefault(obs.key, []).append(obs)
    channels: list[str] = [c for c in channel or [] if c in CHANNELS]
    types: list[str] = [type] if type in MESSAGE_TYPES else []
    _, events, next_cursor = identity.timeline(
        page.session, runtime.store, workspace_id=ws, profile_id=prof.id, channels=channels,
        types=types, limit=50, cursor=cursor,
    )  # fmt: skip
    households = [g for g in prof.groups if g.type == "household"]
    others = [g for g in prof.groups if g.type != "household"]
    header = customer360.summary(
        page.session, runtime.store, workspace_id=ws, profile_id=prof.id,
        consent=prof.consent, shown=events,
    )  # fmt: skip
    return render(
        page,
        "profile.html",
        profile=prof,
        c360=header,
        labels360=customer360.LABELS,
        name=display_name(prof.traits),
        history=history,
        events=events,
        next_cursor=next_cursor,
        channels=CHANNELS,
        selected_channels=channels,
        selected_type=types[0] if types else "",
        households=households,
        other_groups=others,
        nav_key="customers",
    )


@router.post("/customers/{profile_id}/unmerge")
def unmerge(
    profile_id: str,
    page: Annotated[Page, need("unmerge")],
    merge_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    ws = _workspace(page)
    result = identity.unmerge(
        page.session,
        workspace_id=ws,
        profile_id=profile_id[:40],
        merge_id=merge_id or None,
        actor=f"user:{page.caller.user.email}",
    )
    return RedirectResponse(
        f"/customers/{result.profile_id}?unmerged={result.restored_profile_id}", status_code=303
    )
