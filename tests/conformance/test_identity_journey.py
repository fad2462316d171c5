"""One person across channels becomes one profile; unmerge splits it back; on both stacks.

Sara browses the web anonymously, clicks an email link (another anonymousId, with her email),
clicks an SMS link (a third anonymousId, with her phone written in Persian digits) and finally
logs in. Every stage's canonical view (profiles as labels P1..Pn, identities, traits, timeline,
merges) is compared with a hand-written expectation.
"""

from __future__ import annotations

from typing import Any

from tests.events.factories import Api, at
from tests.identity.factories import Labels, identity_set

EMAIL = "sara.ahmadi@example.com"
PHONE = "+989123456789"

WEB_PAGE = {
    "messageId": "w1",
    "anonymousId": "a-web",
    "name": "Pricing",
    "timestamp": at(0),
    "context": {"library": {"name": "analytics.js"}},
}
WEB_TRAITS = {
    "messageId": "w2",
    "anonymousId": "a-web",
    "traits": {"city": "Tehran"},
    "timestamp": at(1),
    "context": {"channel": "web"},
}
EMAIL_CLICK = {
    "messageId": "e1",
    "anonymousId": "a-mail",
    "event": "Email Link Clicked",
    "timestamp": at(10),
    "context": {"channel": "email", "traits": {"email": "Sara.Ahmadi@Example.COM"}},
}
SMS_CLICK = {
    "messageId": "s1",
    "anonymousId": "a-sms",
    "event": "SMS Link Clicked",
    "timestamp": at(20),
    "context": {"channel": "sms", "traits": {"phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹"}},
}
LOGIN_TRAITS = {"email": EMAIL, "phone": "+98 912 345 6789", "name": "Sara Ahmadi"}
LOGIN = {
    "messageId": "l1",
    "userId": "u-1",
    "anonymousId": "a-web",
    "traits": LOGIN_TRAITS,
    "timestamp": at(30),
    "context": {"channel": "web"},
}
ORDER = {
    "messageId": "o1",
    "userId": "u-1",
    "event": "Order Completed",
    "timestamp": at(40),
    "context": {"channel": "app"},
}


async def summary(api: Api, labels: Labels, profile_id: str) -> dict[str, Any]:
    p = await api.profile(profile_id)
    merges = sorted(
        (
            m["cause"],
            labels(m["from_profile_id"]),
            labels(m["into_profile_id"]),
            m["evidence"],
            m["undone_at"] is not None,
        )
        for m in p["merges"]
    )
    return {
        "id": labels(p["id"]),
        "requested": labels(p["requested_id"]) if p["requested_id"] else None,
        "identities": identity_set(p),
        "traits": p["traits"],
        "timeline": [(e["message_id"], e["channel"]) for e in await api.timeline(profile_id)],
        "merges": merges,
    }


async def test_omnichannel_person_merges_and_unmerges(api: Api) -> None:
    labels = Labels()
    await api.send("page", WEB_PAGE)
    await api.send("identify", WEB_TRAITS)
    await api.send("track", EMAIL_CLICK)
    await api.send("track", SMS_CLICK)
    await api.flush()

    # Three anonymous visitors: nothing links them yet.
    web = (await api.lookup("anonymous_id", "a-web"))["id"]
    mail = (await api.lookup("email", "  SARA.AHMADI@example.com "))["id"]
    sms = (await api.lookup("phone", "0912-345-6789"))["id"]
    assert [labels(web), labels(mail), labels(sms)] == ["P1", "P2", "P3"]
    assert (await api.stats())["profiles"] == 3

    await api.send("identify", LOGIN)
    await api.send("track", ORDER)
    await api.flush()

    one = {
        labels((await api.lookup(t, v))["id"])
        for t, v in [
            ("user_id", "u-1"),
            ("email", EMAIL),
            ("phone", "00989123456789"),
            ("phone", "۰۹۱۲۳۴۵۶۷۸۹"),
            ("anonymous_id", "a-web"),
            ("anonymous_id", "a-mail"),
            ("anonymous_id", "a-sms"),
        ]
    }
    assert one == {"P2"}
    merged = await summary(api, labels, mail)
    assert merged == {
        "id": "P2",
        "requested": None,
        "identities": [
            "anonymous_id:a-mail",
            "anonymous_id:a-sms",
            "anonymous_id:a-web",
            f"email:{EMAIL}",
            f"phone:{PHONE}",
            "user_id:u-1",
        ],
        "traits": {"city": "Tehran", **LOGIN_TRAITS},
        "timeline": [
            ("o1", "app"),
            ("l1", "web"),
            ("s1", "sms"),
            ("e1", "email"),
            ("w2", "web"),
            ("w1", "web"),
        ],
        "merges": [
            ("identify", "P1", "P2", [f"email:{EMAIL}", "anonymous_id:a-web"], False),
            ("identify", "P3", "P2", [f"email:{EMAIL}", f"phone:{PHONE}"], False),
        ],
    }
    # The merged-away ids redirect to the survivor, with the same timeline.
    for old in (web, sms):
        assert {**await summary(api, labels, old), "requested": None} == merged
        assert (await api.profile(old))["requested_id"] == old
    assert (await api.stats())["profiles"] == 1

    # Unmerge the web visitor: both sides get back their identities, traits and events.
    web_merge = next(m for m in (await api.profile(mail))["merges"] if m["from_profile_id"] == web)
    undone = await api.unmerge(mail, web_merge["id"])
    assert (labels(undone["profile_id"]), labels(undone["restored_profile_id"])) == ("P2", "P1")
    assert [f"{i['type']}:{i['value']}" for i in undone["moved_identities"]] == [
        "anonymous_id:a-web"
    ]
    web_side = await summary(api, labels, web)
    assert web_side == {
        "id": "P1",
        "requested": None,
        "identities": ["anonymous_id:a-web"],
        "traits": {"city": "Tehran"},
        "timeline": [("w2", "web"), ("w1", "web")],
        "merges": [("identify", "P1", "P2", [f"email:{EMAIL}", "anonymous_id:a-web"], True)],
    }
    rest = await summary(api, labels, mail)
    assert rest["identities"] == [
        "anonymous_id:a-mail",
        "anonymous_id:a-sms",
        f"email:{EMAIL}",
        f"phone:{PHONE}",
        "user_id:u-1",
    ]
    assert rest["traits"] == LOGIN_TRAITS
    assert rest["timeline"] == [("o1", "app"), ("l1", "web"), ("s1", "sms"), ("e1", "email")]
    assert (await api.stats())["profiles"] == 2

    # The same identifiers arriving again do not undo the unmerge.
    again = {**LOGIN, "messageId": "l2", "timestamp": at(50)}
    visit = {**WEB_PAGE, "messageId": "w3", "timestamp": at(55)}
    mixed = {**EMAIL_CLICK, "messageId": "e2", "anonymousId": "a-web", "timestamp": at(56)}
    await api.batch([{**again, "type": "identify"}, {**visit, "type": "page"}])
    await api.send("track", mixed)
    await api.send("identify", LOGIN)  # a plain retry of the original login
    await api.flush()
    assert labels((await api.lookup("anonymous_id", "a-web"))["id"]) == "P1"
    assert labels((await api.lookup("user_id", "u-1"))["id"]) == "P2"
    web_side = await summary(api, labels, web)
    assert web_side["identities"] == ["anonymous_id:a-web"]
    assert web_side["timeline"] == [("e2", "email"), ("w3", "web"), ("w2", "web"), ("w1", "web")]
    assert (await summary(api, labels, mail))["timeline"] == [
        ("l2", "web"),
        ("o1", "app"),
        ("l1", "web"),
        ("s1", "sms"),
        ("e1", "email"),
    ]
    assert len((await api.profile(mail))["merges"]) == 2
    assert (await api.stats())["profiles"] == 2

    # Unmerging the remaining (newest active) merge gives the SMS visitor back too.
    undone = await api.unmerge(mail)
    assert labels(undone["restored_profile_id"]) == "P3"
    sms_side = await summary(api, labels, sms)
    assert {k: sms_side[k] for k in ("id", "identities", "traits", "timeline")} == {
        "id": "P3",
        "identities": ["anonymous_id:a-sms", f"phone:{PHONE}"],
        "traits": {"phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹"},
        "timeline": [("s1", "sms")],
    }
    mail_side = await summary(api, labels, mail)
    assert mail_side["identities"] == ["anonymous_id:a-mail", f"email:{EMAIL}", "user_id:u-1"]
    assert mail_side["timeline"] == [("l2", "web"), ("o1", "app"), ("l1", "web"), ("e1", "email")]
    assert all(m[4] for m in mail_side["merges"])
    assert (await api.stats())["profiles"] == 3
    # Nothing left to undo: a 404 that names the field.
    r = await api.client.post(f"/api/profiles/{mail}/unmerge", headers=api.bearer)
    assert r.status_code == 404 and r.json()["field"] == "merge_id"


async def test_the_same_journey_in_one_batch_ends_the_same(api: Api) -> None:
    """Merges inside one apply batch (profiles and identities still buffered) behave alike."""
    labels = Labels()
    kinds = ["page", "identify", "track", "track", "identify", "track"]
    journey = [WEB_PAGE, WEB_TRAITS, EMAIL_CLICK, SMS_CLICK, LOGIN, ORDER]
    await api.batch([{**m, "type": k} for m, k in zip(journey, kinds, strict=True)])
    await api.flush()
    profile = await api.lookup("user_id", "u-1")
    labels(profile["id"])
    merged = await summary(api, labels, profile["id"])
    web = next(
        m["from_profile_id"] for m in profile["merges"] if "anonymous_id:a-web" in m["evidence"]
    )
    labels(web)
    assert {k: merged[k] for k in ("id", "identities", "traits", "timeline")} == {
        "id": "P1",
        "identities": [
            "anonymous_id:a-mail",
            "anonymous_id:a-sms",
            "anonymous_id:a-web",
            f"email:{EMAIL}",
            f"phone:{PHONE}",
            "user_id:u-1",
        ],
        "traits": {"city": "Tehran", **LOGIN_TRAITS},
        "timeline": [
            ("o1", "app"),
            ("l1", "web"),
            ("s1", "sms"),
            ("e1", "email"),
            ("w2", "web"),
            ("w1", "web"),
        ],
    }
    assert sorted((m[0], m[2], m[3]) for m in merged["merges"]) == [
        ("identify", "P1", [f"email:{EMAIL}", "anonymous_id:a-web"]),
        ("identify", "P1", [f"email:{EMAIL}", f"phone:{PHONE}"]),
    ]
    assert (await api.stats())["profiles"] == 1
    web_merge = next(m for m in profile["merges"] if m["from_profile_id"] == web)
    await api.unmerge(profile["id"], web_merge["id"])
    web_side = await summary(api, labels, web)
    assert (web_side["identities"], web_side["traits"], web_side["timeline"]) == (
        ["anonymous_id:a-web"],
        {"city": "Tehran"},
        [("w2", "web"), ("w1", "web")],
    )
    rest = await summary(api, labels, profile["id"])
    assert rest["timeline"] == [("o1", "app"), ("l1", "web"), ("s1", "sms"), ("e1", "email")]
    assert rest["traits"] == LOGIN_TRAITS
