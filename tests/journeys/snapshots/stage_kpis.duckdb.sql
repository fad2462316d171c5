WITH s AS (SELECT case_id, ts, CASE WHEN list_contains($st0_ev, activity) THEN $st0_name WHEN list_contains($st1_ev, activity) THEN $st1_name WHEN list_contains($st2_ty, type) AND json_extract_string(properties, '$.' || $st2_pk) = $st2_pv THEN $st2_name END AS stage FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq, e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL) AS b0), f AS (SELECT case_id, stage, min(ts) AS t0, count(*) AS n FROM s WHERE stage IS NOT NULL GROUP BY case_id, stage), g AS (SELECT *, CASE WHEN stage = $o0 THEN $o1 END AS nxt FROM f) SELECT a.stage AS stage, count(*) AS cases, sum(a.n) AS events, count(*) FILTER (WHERE b.t0 IS NOT NULL AND b.t0 >= a.t0) AS next_cases, quantile_cont(CASE WHEN b.t0 >= a.t0 THEN b.t0 - a.t0 END, 0.5) / 1e6 AS med_to_next, quantile_cont(CASE WHEN b.t0 >= a.t0 THEN b.t0 - a.t0 END, 0.9) / 1e6 AS p90_to_next FROM g AS a LEFT JOIN f AS b ON b.case_id = a.case_id AND b.stage = a.nxt GROUP BY a.stage ORDER BY a.stage
-- params
{
 "o0": "browse",
 "o1": "buy",
 "st0_ev": [
  "view"
 ],
 "st0_name": "browse",
 "st1_ev": [
  "cart",
  "buy"
 ],
 "st1_name": "buy",
 "st2_name": "feedback",
 "st2_pk": "nps",
 "st2_pv": "9",
 "st2_ty": [
  "track"
 ],
 "ws": "ws_snap"
}
