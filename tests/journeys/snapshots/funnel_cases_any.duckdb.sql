WITH s AS (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL), e AS (SELECT case_id, ts, min(CASE WHEN activity = $s1 THEN ts END) OVER (PARTITION BY case_id ORDER BY ts RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS f1, min(CASE WHEN activity = $s2 THEN ts END) OVER (PARTITION BY case_id ORDER BY ts RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS f2 FROM s WHERE activity IN ($s1, $s2)), w AS (SELECT case_id, CASE WHEN f1 - ts <= $win THEN f1 ELSE 4611686018427387904 END AS g1, CASE WHEN f2 - ts <= $win THEN f2 ELSE 4611686018427387904 END AS g2 FROM e), x AS (SELECT case_id, CAST(g1 < 4611686018427387904 AS INTEGER) + CAST(g2 < 4611686018427387904 AS INTEGER) AS cnt, list_sort([g1, g2]) AS r FROM w), per AS (SELECT case_id, max(cnt) AS level, min(CASE WHEN r[1] < 4611686018427387904 THEN r[1] END) AS t1, min(CASE WHEN r[2] < 4611686018427387904 THEN r[2] END) AS t2 FROM x GROUP BY case_id) SELECT case_id, level, t1, t2 FROM per WHERE level >= 1 ORDER BY case_id
-- params
{
 "s1": "view",
 "s2": "cart",
 "win": 60000000,
 "ws": "ws_snap"
}
