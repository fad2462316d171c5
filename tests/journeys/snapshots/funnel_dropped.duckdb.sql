WITH s AS (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL), e AS (SELECT case_id, ts, activity = $s1 AS m1, activity = $s2 AS m2, activity = $s3 AS m3 FROM s WHERE activity IN ($s1, $s2, $s3)), l1 AS (SELECT *, CASE WHEN m1 THEN ts END AS c1 FROM e), l2 AS (SELECT *, CASE WHEN m2 AND ts - p2 <= $win THEN p2 END AS c2 FROM (SELECT *, max(c1) OVER (PARTITION BY case_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS p2 FROM l1) AS x2), l3 AS (SELECT *, CASE WHEN m3 AND ts - p3 <= $win THEN p3 END AS c3 FROM (SELECT *, max(c2) OVER (PARTITION BY case_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS p3 FROM l2) AS x3), per AS (SELECT case_id, CASE WHEN count(*) FILTER (WHERE c3 IS NOT NULL) > 0 THEN 3 WHEN count(*) FILTER (WHERE c2 IS NOT NULL) > 0 THEN 2 WHEN count(*) FILTER (WHERE c1 IS NOT NULL) > 0 THEN 1 ELSE 0 END AS level, min(CASE WHEN c1 IS NOT NULL THEN ts END) AS t1, min(CASE WHEN c2 IS NOT NULL THEN ts END) AS t2, min(CASE WHEN c3 IS NOT NULL THEN ts END) AS t3 FROM l3 GROUP BY case_id) SELECT case_id FROM per WHERE level = $level ORDER BY case_id LIMIT $lim
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
