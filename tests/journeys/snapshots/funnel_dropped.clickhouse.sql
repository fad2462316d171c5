WITH s AS (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL)), e AS (SELECT case_id, ts, activity = {s1:String} AS m1, activity = {s2:String} AS m2, activity = {s3:String} AS m3 FROM s WHERE activity IN ({s1:String}, {s2:String}, {s3:String})), l1 AS (SELECT *, CASE WHEN m1 THEN ts END AS c1 FROM e), l2 AS (SELECT *, CASE WHEN m2 AND ts - p2 <= {win:Int64} THEN p2 END AS c2 FROM (SELECT *, max(c1) OVER (PARTITION BY case_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS p2 FROM l1) AS x2), l3 AS (SELECT *, CASE WHEN m3 AND ts - p3 <= {win:Int64} THEN p3 END AS c3 FROM (SELECT *, max(c2) OVER (PARTITION BY case_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS p3 FROM l2) AS x3), per AS (SELECT case_id, CASE WHEN countIf(c3 IS NOT NULL) > 0 THEN 3 WHEN countIf(c2 IS NOT NULL) > 0 THEN 2 WHEN countIf(c1 IS NOT NULL) > 0 THEN 1 ELSE 0 END AS level, min(CASE WHEN c1 IS NOT NULL THEN ts END) AS t1, min(CASE WHEN c2 IS NOT NULL THEN ts END) AS t2, min(CASE WHEN c3 IS NOT NULL THEN ts END) AS t3 FROM l3 GROUP BY case_id) SELECT case_id FROM per WHERE level = {level:Int64} ORDER BY case_id LIMIT {lim:Int64} SETTINGS join_use_nulls = 1
-- params
{
 "level": 2,
 "lim": 10,
 "s1": "view",
 "s2": "cart",
 "s3": "buy",
 "win": 60000000,
 "ws": "ws_snap"
}
