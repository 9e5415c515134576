"""nocilab.stats: models on the tidy derived table. No plotting, no I/O.

Modules, each a pure function or two with frozen results and fixed-column tables:

- ``mixed``          donor-aware linear mixed model ``value ~ arm * day + (1|donor) +
                     (1|animal)`` by REML, Type III F tests, variance components
                     (``_reml`` the likelihood, ``satterthwaite`` the df, as lmerTest);
- ``contrasts``      per-day contrasts of each arm against control (as emmeans);
- ``multiplicity``   Holm, Sidak, Bonferroni, Dunnett; Holm across outcomes;
                     Benjamini-Hochberg for panels;
- ``equivalence``    per analyte of a panel: Welch difference and TOST equivalence test
                     against a margin, censoring-aware, adjusted across analytes;
- ``rm_anova``       Prism-style two-way repeated-measures ANOVA with GG correction and
                     post-tests, refused (with the reason) when a value is missing;
- ``donor_test``     the donor-level test of the arm effect (Student t on donor means of
                     the mean change from baseline over the window): what power plans for;
- ``donors``         each donor against the control donors' prediction interval: how
                     many donors are clearly, possibly and not affected;
- ``censoring``      censored counts and flag, Tobit model, sensitivity analysis;
- ``baseline``       raw, change, percent of baseline, or baseline as covariate;
- ``effect_sizes``   Hedges' g per day with noncentral-t intervals;
- ``response_model`` the model the power simulation draws from (animal level, donor and
                     animal response after injection, AR(1) residuals), by REML, for
                     taking a pilot study's variance components into planning;
- ``window``         the one analysis window (command line, study file or default) and
                     why it was used;
- ``scale``          the log10 scale (thresholds that are log-normal) and ratios;
- ``binding``        IgG binding from per-cell tables: thresholds on control donors'
                     cells, per image and per donor fractions, arm test on donor scores;
- ``correlation``    donor-level Spearman correlations of clinical fields with per-donor
                     values (CI, p as R's cor.test), Holm across pairs;
- ``analysis``       one outcome or a whole derived table through all of the above.

Every number that R computes (lme4, lmerTest, emmeans, afex, survival, nlme, lm) is
checked against R's output in tests/stats (R scripts in tests/stats/r).
"""

from nocilab.stats.analysis import OutcomeResult, StudyAnalysis, analyze_outcome, analyze_table
from nocilab.stats.baseline import BASELINE_MODES, BaselineApplied, apply_baseline
from nocilab.stats.binding import BindingResult, binding_analysis, donor_arm_test
from nocilab.stats.censoring import (
    CensoringSummary,
    TobitFit,
    censoring_sensitivity,
    censoring_summary,
    tobit_day_contrasts,
    tobit_fit,
)
from nocilab.stats.contrasts import ContrastTable, day_contrasts
from nocilab.stats.correlation import DonorCorrelations, Spearman, donor_correlations, spearman
from nocilab.stats.donor_test import donor_level_test
from nocilab.stats.donors import DonorEffects, donor_effects
from nocilab.stats.effect_sizes import hedges_g
from nocilab.stats.equivalence import EquivalencePanel, Tost, equivalence_panel, welch_tost
from nocilab.stats.mixed import (
    MixedModelFit,
    VarianceComponents,
    fit_mixed_model,
    variance_components,
)
from nocilab.stats.multiplicity import (
    adjust_pvalues,
    benjamini_hochberg,
    holm_across_outcomes,
)
from nocilab.stats.response_model import ResponseModelFit, fit_response_model
from nocilab.stats.rm_anova import RmAnovaResult, rm_anova

__all__ = [
    "BASELINE_MODES",
    "BaselineApplied",
    "BindingResult",
    "CensoringSummary",
    "ContrastTable",
    "DonorCorrelations",
    "DonorEffects",
    "EquivalencePanel",
    "MixedModelFit",
    "OutcomeResult",
    "ResponseModelFit",
    "RmAnovaResult",
    "Spearman",
    "StudyAnalysis",
    "TobitFit",
    "Tost",
    "VarianceComponents",
    "adjust_pvalues",
    "analyze_outcome",
    "analyze_table",
    "apply_baseline",
    "benjamini_hochberg",
    "binding_analysis",
    "censoring_sensitivity",
    "censoring_summary",
    "day_contrasts",
    "donor_arm_test",
    "donor_correlations",
    "donor_effects",
    "donor_level_test",
    "equivalence_panel",
    "fit_mixed_model",
    "fit_response_model",
    "hedges_g",
    "holm_across_outcomes",
    "rm_anova",
    "spearman",
    "tobit_day_contrasts",
    "tobit_fit",
    "variance_components",
    "welch_tost",
]
