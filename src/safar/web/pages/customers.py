"""Customers: the list (search, saved segments, a trait filter, pages, CSV export, saving the
filter as a segment) and Customer 360 (the profile, its history and its timeline)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from safar.errors import NotFound, ValidationFailed
from safar.events.channels import CHANNELS
from safar.events.deps import EventsDep
from safar.events.messages import MESSAGE_TYPES
from safar.identity import service as identity
from safar.identity.schemas import TraitObservation
from safar.identity.search import search_profiles
from safar.kit.conditions import OPS, SegmentCondition, TraitCondition
from safar.segments import export
from safar.segments import service as segments
from safar.segments.export import display_name
from safar.segments.schemas import SegmentCreate
from safar.web import customer360
from safar.web.i18n import N_
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, need, render

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("customers", "/customers", N_("Customers"), "users", order=20))


def _workspace(page: Page) -> str:
    if page.workspace_id is None:
        raise NotFound("workspace: there is no workspace yet; create one in Settings")
    return page.workspace_id


PAGE_SIZE = 25
#: A filtered list (segment or trait) is built from at most this many search hits.
SEARCH_CAP = 5_000
Q = Annotated[str, Query(max_length=320)]
Key = Annotated[str, Query(max_length=100)]


@dataclass(frozen=True)
class Listing:
    """What the customer list shows: search text, saved segment, trait filter and page."""

    q: str = ""
    segment: str = ""
    trait: str = ""
    op: str = "eq"
    value: str = ""
    number: int = 1

    def rule(self) -> TraitCondition | None:
        """The trait filter as a condition (a 400 names the field it cannot accept)."""
        if not self.trait.strip():
            return None
        if self.op not in OPS:
            raise ValidationFailed(f"op: unknown operator {self.op[:20]!r}", field="op")
        raw: Any = self.value
        if self.op in ("in", "not_in"):
            raw = [v.strip() for v in self.value.split(",") if v.strip()]
        elif self.op in ("exists", "not_exists"):
            raw = None
        try:
            return TraitCondition(key=self.trait.strip(), op=self.op, value=raw)
        except ValidationError as exc:
            raise ValidationFailed(f"value: {exc.errors()[0]['msg']}", field="value") from exc

    def query(self, **changes: Any) -> str:
        params = {k: v for k, v in {**self.__dict__, **changes}.items() if v not in ("", None)}
        params["page"] = params.pop("number", 1)
        if params["page"] == 1:
            del params["page"]
        if "trait" not in params:
            params.pop("op", None)
        return urlencode(params)


def _ids(page: Page, store: Any, listing: Listing, want: int | None) -> tuple[list[str], bool]:
    """Profile ids of the list (at least ``want`` when there are that many; every one for
    None, searches up to ``SEARCH_CAP``) and whether the search found exactly one identifier."""
    ws = page.workspace_id
    assert ws is not None
    filtered: set[str] | None = None
    if listing.segment:
        filtered = segments.members(
            page.session, store, workspace_id=ws, segment_id=listing.segment[:40]
        )
    rule = listing.rule()
    if rule is not None and not listing.q:
        # Profiles in id order, read until the page is full (not the whole audience).
        return segments.trait_members(
            page.session, store, workspace_id=ws, rule=rule, want=want, within=filtered
        ), False
    if listing.q and (filtered is not None or rule is not None):
        hits, _ = search_profiles(page.session, workspace_id=ws, query=listing.q, limit=SEARCH_CAP)
        if rule is not None:
            held = segments.trait_matching(
                page.session, workspace_id=ws, rule=rule, profile_ids=hits
            )
            hits = [pid for pid in hits if pid in held]
        return [pid for pid in hits if filtered is None or pid in filtered], False
    if filtered is None:
        return search_profiles(
            page.session, workspace_id=ws, query=listing.q, limit=want or SEARCH_CAP
        )
    return sorted(filtered), False


async def _listing(
    q: Q = "",
    segment: Annotated[str, Query(max_length=40)] = "",
    trait: Key = "",
    op: Annotated[str, Query(max_length=20)] = "eq",
    value: Annotated[str, Query(max_length=500)] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Listing:
    """The list's query parameters (``async``: a plain dependency would cost a thread hop)."""
    return Listing(q.strip(), segment, trait, op, value, number)


ListingDep = Annotated[Listing, Depends(_listing)]


@router.get("/customers", response_class=HTMLResponse)
def customers(page: PageDep, runtime: EventsDep, listing: ListingDep) -> Response:
    ws = page.workspace_id
    hits: list[dict[str, Any]] = []
    has_next = False
    saved: list[Any] = []
    missing: str | None = None
    if ws is not None and listing.segment:
        try:
            segments.get_segment(page.session, workspace_id=ws, segment_id=listing.segment[:40])
        except NotFound:
            # A stale link (the segment was deleted, or another workspace's): everyone, said so.
            missing, listing = listing.segment, replace(listing, segment="")
    if ws is not None:
        offset = (listing.number - 1) * PAGE_SIZE
        ids, exact = _ids(page, runtime.store, listing, offset + PAGE_SIZE + 1)
        plain = not (listing.segment or listing.trait)
        if listing.q and exact and len(ids) == 1 and plain:
            return RedirectResponse(f"/customers/{ids[0]}", status_code=303)
        has_next = len(ids) > offset + PAGE_SIZE
        shown = ids[offset : offset + PAGE_SIZE]
        hits = export.profile_rows(page.session, workspace_id=ws, profile_ids=shown)
        saved = segments.list_segments(page.session, workspace_id=ws)
    return render(
        page,
        "customers.html",
        q=listing.q,
        listing=listing,
        hits=hits,
        segments=saved,
        ops=OPS,
        prev_url=f"/customers?{listing.query(number=listing.number - 1)}"
        if listing.number > 1
        else None,
        next_url=f"/customers?{listing.query(number=listing.number + 1)}" if has_next else None,
        csv_url=f"/customers.csv?{listing.query(number=1)}",
        missing_segment=missing,
        nav_key="customers",
    )


@router.get("/customers.csv")
def customers_csv(page: PageDep, runtime: EventsDep, listing: ListingDep) -> Response:
    """The current list (every page of it) as CSV."""
    ws = _workspace(page)
    if listing.q or listing.segment or listing.trait:
        ids, _ = _ids(page, runtime.store, listing, None)
    else:
        ids = sorted(identity.unmerged_profile_ids(page.session, workspace_id=ws))
    return StreamingResponse(
        export.csv_chunks(runtime.db.session, workspace_id=ws, profile_ids=ids),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="customers.csv"'},
    )


@router.post("/customers/segments")
def save_segment(
    page: Annotated[Page, need("settings")],
    runtime: EventsDep,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    trait: Annotated[str, Form(max_length=100)] = "",
    op: Annotated[str, Form(max_length=20)] = "eq",
    value: Annotated[str, Form(max_length=500)] = "",
    segment: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Save the list's trait filter (within its saved segment, if one is chosen) as a segment."""
    ws = _workspace(page)
    rule = Listing(trait=trait, op=op, value=value).rule()
    if rule is None:
        raise ValidationFailed("trait: choose a trait to filter on first", field="trait")
    conditions: list[Any] = [rule]
    if segment:
        conditions.append(SegmentCondition(segment_id=segment))
    created = segments.create_segment(
        page.session,
        workspace_id=ws,
        data=SegmentCreate(name=name.strip() or rule.key, conditions=conditions),
    )
    segments.schedule_refresh(
        page.session,
        runtime.jobs,
        workspace_id=ws,
        due_at=runtime.clock(),
        interval_s=runtime.settings.segment_refresh_s,
    )
    return RedirectResponse(f"/customers?segment={created.id}", status_code=303)


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
