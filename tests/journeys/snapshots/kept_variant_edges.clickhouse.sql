WITH s AS (SELECT * FROM (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL)) AS s0 WHERE case_id IN (SELECT case_id FROM (WITH s AS (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL)) SELECT case_id, arrayMap(x -> x.3, arraySort(groupArray((ts, seq, activity)))) AS acts FROM s GROUP BY case_id) AS c WHERE has({kept:Array(Array(String))}, acts))), f AS (SELECT activity, ts, leadInFrame(toNullable(activity)) OVER w AS nxt, leadInFrame(toNullable(ts)) OVER w AS nts FROM s WINDOW w AS (PARTITION BY case_id ORDER BY ts, seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) SELECT activity AS source, nxt AS target, count(*) AS frequency, quantileExactInclusive(0.5)(nts - ts) / 1e6 AS median_seconds, quantileExactInclusive(0.9)(nts - ts) / 1e6 AS p90_seconds FROM f WHERE nxt IS NOT NULL GROUP BY activity, nxt ORDER BY frequency DESC, source, target SETTINGS join_use_nulls = 1
-- params
{
 "kept": [
  [
   "cart",
   "view"
  ]
 ],
 "ws": "ws_snap"
}
