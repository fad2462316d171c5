SELECT case_id, activity, ts, seq FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL AND epoch_us(e.timestamp) < $until) AS s ORDER BY case_id, ts, seq
-- params
{
 "until": 1767225610000000,
 "ws": "ws_snap"
}
