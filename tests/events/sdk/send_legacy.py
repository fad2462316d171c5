"""Drive the legacy analytics-python 1.4 (installed apart in py-legacy) against Safar.

Usage: PYTHONPATH=tests/events/sdk/py-legacy python send_legacy.py HOST WRITE_KEY PREFIX BURST
Prints one JSON line {"errors": [...], "version": ...}.
"""

import json
import sys

import analytics
from analytics.version import VERSION

host, write_key, prefix, burst = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
errors = []
client = analytics.Client(
    write_key,
    host=host,
    gzip=True,
    max_retries=4,
    upload_size=50,
    on_error=lambda error, _items: errors.append(repr(error)),
)
user, anon = f"{prefix}-u1", f"{prefix}-a1"
client.identify(
    user,
    {"email": f"{prefix}@example.com", "name": "Sara"},
    anonymous_id=anon,
    message_id=f"{prefix}-identify",
)
client.track(
    user,
    "Order Completed",
    {"total": 120.5, "currency": "IRR"},
    context={"channel": "email"},
    message_id=f"{prefix}-track",
)
client.page(user, None, "Home", {"path": "/"}, message_id=f"{prefix}-page")
client.screen(user, None, "Cart", message_id=f"{prefix}-screen")
client.group(
    user, f"{prefix}-home", {"type": "household", "name": "Ahmadi"}, message_id=f"{prefix}-group"
)
client.alias(f"{prefix}-old", user, message_id=f"{prefix}-alias")
for i in range(burst):
    client.track(user, "Scrolled", {"i": i}, message_id=f"{prefix}-burst-{i}")
client.flush()
client.shutdown()
print(json.dumps({"errors": errors, "version": VERSION}))
