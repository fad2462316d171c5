WITH s AS (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL)), s2 AS (SELECT case_id, activity, row_number() OVER (PARTITION BY case_id ORDER BY ts, seq) AS rn FROM s), a AS (SELECT case_id, min(rn) AS r0 FROM s2 WHERE activity = {anchor:String} GROUP BY case_id), w AS (SELECT s2.case_id AS case_id, s2.rn AS rn, s2.activity AS activity FROM s2 INNER JOIN a ON s2.case_id = a.case_id WHERE s2.rn BETWEEN a.r0 - {depth:Int64} AND a.r0), g AS (SELECT case_id, arrayMap(x -> x.2, arraySort(groupArray((rn, activity)))) AS path FROM w GROUP BY case_id) SELECT path, count(*) AS count FROM g GROUP BY path ORDER BY count DESC, path SETTINGS join_use_nulls = 1
-- params
{
 "anchor": "cart",
 "depth": 2,
 "ws": "ws_snap"
}
