WITH s AS (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq, e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL) SELECT case_id, channel AS value FROM (SELECT case_id, first(channel ORDER BY ts, seq) AS channel FROM s WHERE activity = $s1 GROUP BY case_id) AS en ORDER BY case_id
-- params
{
 "s1": "view",
 "ws": "ws_snap"
}
