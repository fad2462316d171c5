WITH s AS (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq, e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL), t AS (SELECT case_id, max(ts) AS last_ts FROM s WHERE activity = $tev AND TRY_CAST(json_extract_string(properties, '$.' || $prop) AS DOUBLE) IS NOT NULL GROUP BY case_id) SELECT s.case_id AS case_id, s.activity AS activity, s.channel AS channel, count(*) AS n FROM s INNER JOIN t ON s.case_id = t.case_id WHERE s.ts <= t.last_ts AND s.activity != $tev GROUP BY s.case_id, s.activity, s.channel
-- params
{
 "prop": "nps",
 "tev": "survey",
 "ws": "ws_snap"
}
