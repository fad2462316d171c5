SELECT survey_responses.channel AS dim, survey_responses.day, survey_responses.nps AS score, count(*) AS n 
FROM survey_responses 
WHERE survey_responses.workspace_id = ? AND survey_responses.survey_id = ? AND survey_responses.day >= ? AND survey_responses.nps IS NOT NULL GROUP BY survey_responses.channel, survey_responses.day, survey_responses.nps ORDER BY survey_responses.day, survey_responses.nps
;
SELECT 'all' AS dim, survey_invitations.day, count(*) AS sent, count(survey_invitations.opened_at) AS opened, sum(CASE WHEN (EXISTS (SELECT survey_responses.id 
FROM survey_responses 
WHERE survey_responses.invitation_id = survey_invitations.id)) THEN ? ELSE ? END) AS started, count(survey_invitations.completed_at) AS completed 
FROM survey_invitations 
WHERE survey_invitations.workspace_id = ? AND survey_invitations.survey_id = ? AND survey_invitations.day >= ? AND (survey_invitations.status NOT IN (__[POSTCOMPILE_status_1])) GROUP BY survey_invitations.day ORDER BY survey_invitations.day
