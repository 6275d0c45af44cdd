/*
How DESIGN §4 ranks, defined once for the province and the agency rankings: within a ranking
group (a struct of the metric, the period and what is ranked together), by value descending,
ties sharing the lowest rank; a row without a value, or with fewer received dossiers than the
ranking's minimum, is listed but not ranked, and says why.
*/
CREATE OR REPLACE TEMP MACRO not_ranked_reason(value, received, min_dossiers) AS CASE
    WHEN value IS NULL THEN 'no value: the denominator is 0'
    WHEN received < min_dossiers THEN 'fewer than ' || min_dossiers || ' dossiers received'
END;

-- 1 = highest value of the group; NULL for a row not ranked
CREATE OR REPLACE TEMP MACRO rank_in_group(ranking_group, value, ranked) AS
    CASE WHEN ranked THEN rank() OVER (PARTITION BY ranking_group, ranked ORDER BY value DESC) END;

-- 1 = lowest value of the group, for the bottom five
CREATE OR REPLACE TEMP MACRO rank_from_bottom_in_group(ranking_group, value, ranked) AS
    CASE WHEN ranked THEN rank() OVER (PARTITION BY ranking_group, ranked ORDER BY value ASC) END;

CREATE OR REPLACE TEMP MACRO ranked_in_group(ranking_group, ranked) AS
    count(*) FILTER (WHERE ranked) OVER (PARTITION BY ranking_group);
