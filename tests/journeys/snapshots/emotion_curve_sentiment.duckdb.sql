WITH s AS (SELECT *, CASE WHEN list_contains($st0_ev, activity) THEN $st0_name WHEN list_contains($st1_ev, activity) THEN $st1_name WHEN list_contains($st2_ty, type) AND json_extract_string(properties, '$.' || $st2_pk) = $st2_pv THEN $st2_name END AS stage FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, epoch_us(e.timestamp) AS ts, e.message_id AS seq, e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits, CAST(ta.sentiment_score AS DOUBLE) AS sentiment FROM events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM identity_map WHERE workspace_id = $ws) AS m ON m.id_type = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END AND m.id_value = coalesce(e.user_id, e.anonymous_id) LEFT JOIN (SELECT message_id, any_value(sentiment_score) AS sentiment_score FROM text_analyses WHERE workspace_id = $ws GROUP BY message_id) AS ta ON ta.message_id = e.message_id WHERE e.workspace_id = $ws AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL) AS b), x AS (SELECT case_id, last_value(stage IGNORE NULLS) OVER (PARTITION BY case_id ORDER BY ts, seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cur_stage, TRY_CAST(json_extract_string(properties, '$.' || $k_nps) AS DOUBLE) AS nps, TRY_CAST(json_extract_string(properties, '$.' || $k_csat) AS DOUBLE) AS csat, TRY_CAST(json_extract_string(properties, '$.' || $k_ces) AS DOUBLE) AS ces, sentiment AS sentiment FROM s) SELECT cur_stage AS stage, avg(nps) AS nps_mean, count(nps) AS nps_n, avg(csat) AS csat_mean, count(csat) AS csat_n, avg(ces) AS ces_mean, count(ces) AS ces_n, avg(sentiment) AS sentiment_mean, count(sentiment) AS sentiment_n, sum(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS nps_promoters, sum(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS nps_detractors FROM x WHERE cur_stage IS NOT NULL GROUP BY cur_stage ORDER BY cur_stage
-- params
{
 "k_ces": "ces",
 "k_csat": "csat",
 "k_nps": "nps",
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
