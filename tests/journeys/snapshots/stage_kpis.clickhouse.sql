WITH s AS (SELECT case_id, ts, CAST(CASE WHEN has({st0_ev:Array(String)}, activity) THEN {st0_name:String} WHEN has({st1_ev:Array(String)}, activity) THEN {st1_name:String} WHEN has({st2_ty:Array(String)}, type) AND JSONExtractString(properties, {st2_pk:String}) = {st2_pv:String} THEN {st2_name:String} ELSE NULL END AS Nullable(String)) AS stage FROM (SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq, channel, type, properties, traits FROM (SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, coalesce(e.event, e.name, e.type) AS activity, toUnixTimestamp64Micro(e.timestamp) AS ts, e.message_id AS seq, e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits FROM safar.events AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM safar.identity_map WHERE workspace_id = {ws:String}) AS m ON m.id_type = if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id') AND m.id_value = coalesce(e.user_id, e.anonymous_id) WHERE e.workspace_id = {ws:String} AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL)) AS b0), f AS (SELECT case_id, stage, min(ts) AS t0, count(*) AS n FROM s WHERE stage IS NOT NULL GROUP BY case_id, stage), g AS (SELECT *, CAST(CASE WHEN stage = {o0:String} THEN {o1:String} END AS Nullable(String)) AS nxt FROM f) SELECT a.stage AS stage, count(*) AS cases, sum(a.n) AS events, countIf(b.t0 IS NOT NULL AND b.t0 >= a.t0) AS next_cases, quantileExactInclusive(0.5)(CASE WHEN b.t0 >= a.t0 THEN b.t0 - a.t0 END) / 1e6 AS med_to_next, quantileExactInclusive(0.9)(CASE WHEN b.t0 >= a.t0 THEN b.t0 - a.t0 END) / 1e6 AS p90_to_next FROM g AS a LEFT JOIN f AS b ON b.case_id = a.case_id AND b.stage = a.nxt GROUP BY a.stage ORDER BY a.stage SETTINGS join_use_nulls = 1
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
