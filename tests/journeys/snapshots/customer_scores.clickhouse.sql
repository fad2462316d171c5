WITH s AS (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq, channel, type, properties, traits FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq, e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL)) SELECT case_id, avg(x) AS score FROM (SELECT case_id, JSONExtract(properties, {prop:String}, 'Nullable(Float64)') AS x FROM s WHERE activity = {tev:String}) AS v WHERE x IS NOT NULL GROUP BY case_id ORDER BY case_id SETTINGS join_use_nulls = 1
-- params
{
 "prop": "nps",
 "tev": "survey",
 "ws": "ws_snap"
}
