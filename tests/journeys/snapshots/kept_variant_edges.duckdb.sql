WITH s AS (SELECT * FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL) AS s0 WHERE case_id IN (SELECT case_id FROM (WITH s AS (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL) SELECT case_id, list(activity ORDER BY ts, seq) AS acts FROM s GROUP BY case_id) AS c WHERE list_contains($kept, acts))), f AS (SELECT activity, ts, lead(activity) OVER w AS nxt, lead(ts) OVER w AS nts FROM s WINDOW w AS (PARTITION BY case_id ORDER BY ts, seq)) SELECT activity AS source, nxt AS target, count(*) AS frequency, quantile_cont(nts - ts, 0.5) / 1e6 AS median_seconds, quantile_cont(nts - ts, 0.9) / 1e6 AS p90_seconds FROM f WHERE nxt IS NOT NULL GROUP BY activity, nxt ORDER BY frequency DESC, source, target
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
