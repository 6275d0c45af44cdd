/*
The counts a rate table sums from the table below it (agency → province → national), listed
once so that every level carries the same counts: `unnest(dossier_count_sums(<row>))` and
`unnest(procedure_count_sums(<row>))` in a query with GROUP BY (DuckDB cannot unnest a struct
under GROUP BY ALL). A group without a count sums to 0.
*/
CREATE OR REPLACE TEMP MACRO dossier_count_sums(counts) AS {
    'received': coalesce(sum(counts.received), 0),
    'received_online': coalesce(sum(counts.received_online), 0),
    'received_with_fee': coalesce(sum(counts.received_with_fee), 0),
    'paid_online': coalesce(sum(counts.paid_online), 0),
    'finished': coalesce(sum(counts.finished), 0),
    'finished_on_time': coalesce(sum(counts.finished_on_time), 0),
    'received_dvctt': coalesce(sum(counts.received_dvctt), 0),
    'received_online_dvctt': coalesce(sum(counts.received_online_dvctt), 0),
    'received_full': coalesce(sum(counts.received_full), 0),
    'received_online_full': coalesce(sum(counts.received_online_full), 0)
};

-- distinct procedures, counted per province × level and summed upwards
CREATE OR REPLACE TEMP MACRO procedure_count_sums(counts) AS {
    'dvctt_with_online': coalesce(sum(counts.dvctt_with_online), 0),
    'dvctt_offered': coalesce(sum(counts.dvctt_offered), 0),
    'full_online_eligible': coalesce(sum(counts.full_online_eligible), 0),
    'full_online_offered': coalesce(sum(counts.full_online_offered), 0)
};
