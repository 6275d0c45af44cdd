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

-- One sort serves the three window functions below (three sorts of every row by the group
-- were most of a ranking's time): within a group, the ranked rows come first, by value
-- descending, so a ranked row's position among them is its rank.

-- 1 = highest value of the group; NULL for a row not ranked
CREATE OR REPLACE TEMP MACRO rank_in_group(ranking_group, value, ranked) AS
    CASE WHEN ranked THEN
        rank() OVER (PARTITION BY ranking_group ORDER BY ranked DESC, value DESC)
    END;

CREATE OR REPLACE TEMP MACRO ranked_in_group(ranking_group, value, ranked) AS
    count(*) FILTER (WHERE ranked) OVER (
        PARTITION BY ranking_group ORDER BY ranked DESC, value DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    );

-- 1 = lowest value of the group, for the bottom five: one more than the ranked rows below
-- it, those after the row and its ties (counted up to and with its ties)
CREATE OR REPLACE TEMP MACRO rank_from_bottom_in_group(ranking_group, value, ranked) AS
    CASE WHEN ranked THEN
        ranked_in_group(ranking_group, value, ranked) + 1
        - count(*) OVER (PARTITION BY ranking_group ORDER BY ranked DESC, value DESC)
    END;

-- The periods a run of the window ranks: the window's own and the previous periods their
-- rank_prev reads (the month before, the year to date one month shorter, the year before),
-- not every period of the year before (a daily run ranked 28 periods of agencies to write 2).
-- `periods` is core.reporting_periods, passed by name: a macro binds the tables it names
-- when it is defined, before a new warehouse has any.
CREATE OR REPLACE TEMP MACRO periods_to_rank(periods, window_start, window_end) AS TABLE
    WITH window_periods AS (
        SELECT * FROM query_table(periods)
        WHERE period_start < window_end AND period_end >= window_start
    )
    SELECT period_type, period_start, period_end FROM window_periods
    UNION
    SELECT period_type, previous_period_start, previous_period_end FROM window_periods
    WHERE previous_period_start IS NOT NULL;
