WITH s AS (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL AND list_contains($acts, coalesce(e.event, e.name, e.type))), f AS (SELECT activity, lead(activity, 1) OVER w AS a1 FROM s WINDOW w AS (PARTITION BY case_id ORDER BY ts, seq)) SELECT activity, a1, count(*) AS count FROM f WHERE a1 IS NOT NULL GROUP BY activity, a1 ORDER BY count DESC, activity, a1 LIMIT $k
-- params
{
 "acts": [
  "view",
  "cart",
  "buy"
 ],
 "k": 5,
 "ws": "ws_snap"
}
