SELECT case_id, activity, ts, seq FROM (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL AND toUnixTimestamp64Micro(e.timestamp) < {until:Int64})) AS s ORDER BY case_id, ts, seq
-- params
{
 "until": 1767225610000000,
 "ws": "ws_snap"
}
