WITH s AS (SELECT *, CAST(CASE WHEN has({st0_ev:Array(String)}, activity) THEN {st0_name:String} WHEN has({st1_ev:Array(String)}, activity) THEN {st1_name:String} WHEN has({st2_ty:Array(String)}, type) AND JSONExtractString(properties, {st2_pk:String}) = {st2_pv:String} THEN {st2_name:String} ELSE NULL END AS Nullable(String)) AS stage FROM (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq, channel, type, properties, traits, sentiment FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq, e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits, toFloat64(ta.sentiment_score) AS sentiment FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) LEFT JOIN (SELECT message_id, any(sentiment_score) AS sentiment_score FROM safar.text_analyses WHERE workspace_id = {ws:String} GROUP BY message_id) AS ta ON ta.message_id = e.message_id WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL)) AS b), x AS (SELECT case_id, last_value(stage) OVER (PARTITION BY case_id ORDER BY ts, seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cur_stage, JSONExtract(properties, {k_nps:String}, 'Nullable(Float64)') AS nps, JSONExtract(properties, {k_csat:String}, 'Nullable(Float64)') AS csat, JSONExtract(properties, {k_ces:String}, 'Nullable(Float64)') AS ces, sentiment AS sentiment FROM s) SELECT cur_stage AS stage, avg(nps) AS nps_mean, count(nps) AS nps_n, avg(csat) AS csat_mean, count(csat) AS csat_n, avg(ces) AS ces_mean, count(ces) AS ces_n, avg(sentiment) AS sentiment_mean, count(sentiment) AS sentiment_n, sum(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS nps_promoters, sum(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS nps_detractors FROM x WHERE cur_stage IS NOT NULL GROUP BY cur_stage ORDER BY cur_stage SETTINGS join_use_nulls = 1
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
