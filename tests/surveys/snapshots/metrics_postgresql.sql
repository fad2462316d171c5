SELECT survey_responses.channel AS dim, survey_responses.day, survey_responses.nps AS score, count(*) AS n 
FROM survey_responses 
WHERE survey_responses.workspace_id = %(workspace_id_1)s::VARCHAR AND survey_responses.survey_id = %(survey_id_1)s::VARCHAR AND survey_responses.day >= %(day_1)s::DATE AND survey_responses.nps IS NOT NULL GROUP BY survey_responses.channel, survey_responses.day, survey_responses.nps ORDER BY survey_responses.day, survey_responses.nps
;
SELECT 'all' AS dim, survey_invitations.day, count(*) AS sent, count(survey_invitations.opened_at) AS opened, sum(CASE WHEN (EXISTS (SELECT survey_responses.id 
FROM survey_responses 
WHERE survey_responses.invitation_id = survey_invitations.id)) THEN %(param_1)s::INTEGER ELSE %(param_2)s::INTEGER END) AS started, count(survey_invitations.completed_at) AS completed 
FROM survey_invitations 
WHERE survey_invitations.workspace_id = %(workspace_id_1)s::VARCHAR AND survey_invitations.survey_id = %(survey_id_1)s::VARCHAR AND survey_invitations.day >= %(day_1)s::DATE AND (survey_invitations.status NOT IN (__[POSTCOMPILE_status_1])) GROUP BY survey_invitations.day ORDER BY survey_invitations.day
