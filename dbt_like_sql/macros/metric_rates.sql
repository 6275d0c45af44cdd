/*
The rates of DESIGN §4, defined once: every rate table computes them from its summed counts
with `unnest(metric_rates(<row>))`, so agency, province and national figures can never use
different definitions. A rate is NULL where its denominator is 0.
*/
CREATE OR REPLACE TEMP MACRO metric_rates(figures) AS {
    'online_share_all': figures.received_online / nullif(figures.received, 0),
    'online_share_dvctt': figures.received_online_dvctt / nullif(figures.received_dvctt, 0),
    'online_share_full': figures.received_online_full / nullif(figures.received_full, 0),
    'dvctt_uptake_rate': figures.dvctt_with_online / nullif(figures.dvctt_offered, 0),
    'full_online_provision_rate':
        figures.full_online_offered / nullif(figures.full_online_eligible, 0),
    'on_time_rate': figures.finished_on_time / nullif(figures.finished, 0),
    'online_payment_rate': figures.paid_online / nullif(figures.received_with_fee, 0)
};

/*
The numerator and denominator of every rate that is a share of dossiers, one row per metric
(`unnest(dossier_rate_counts(<row>), recursive := true)`): what a volume of dossiers can move.
The other two rates count procedures, not dossiers, and have no row.
*/
CREATE OR REPLACE TEMP MACRO dossier_rate_counts(figures) AS [
    {'metric': 'online_share_all', 'numerator': figures.received_online,
     'denominator': figures.received},
    {'metric': 'online_share_dvctt', 'numerator': figures.received_online_dvctt,
     'denominator': figures.received_dvctt},
    {'metric': 'online_share_full', 'numerator': figures.received_online_full,
     'denominator': figures.received_full},
    {'metric': 'on_time_rate', 'numerator': figures.finished_on_time,
     'denominator': figures.finished},
    {'metric': 'online_payment_rate', 'numerator': figures.paid_online,
     'denominator': figures.received_with_fee}
];
