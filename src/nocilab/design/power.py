"""Power of passive-transfer designs by fast simulation of the donor-level test.

The design
----------
Arms (the first is control), donors per arm, mice per donor, baseline and
post-injection test days, an :class:`Effect` over days and
:class:`VarianceComponents`. The reading of mouse ``k`` given donor ``j``'s IgG, on its
``i``-th test day, is simulated as::

    y = level_k + effect_arm(day) + [day > 0] * (u_j + v_k) + e_k,i
    u_j ~ N(0, sd_donor^2)     v_k ~ N(0, sd_animal^2)
    e_k ~ N(0, sd_residual^2 * R),   R[i, i'] = rho ** |i - i'|   (AR(1) over test days)

``u_j`` is how strongly donor ``j``'s IgG acts (the donor, not the mouse, is the unit
that replicates the claim); ``v_k`` how strongly one mouse responds; ``level_k`` (the
animal's own baseline sensitivity) cancels in the analysis below.

The analysis (the one the report uses)
--------------------------------------
1. Per animal: the **mean change from baseline over the window** = mean of its readings
   on the window days minus the mean of its baseline readings. A plain mean over test
   days was chosen over the AUC: it is exactly the arm contrast of the mixed model below
   (an AUC weights days unequally, and its mixed-model test mixes error strata).
2. Per donor: the mean over its mice.
3. Each treatment arm against control: **Student's t test of donor means with the
   variance pooled over all arms**, df = donors - arms; two-sided, or one-sided in the
   direction of the arm's effect; at ``alpha``, adjusted over the treatment arms with
   ``adjust`` (``bonferroni``, ``sidak``, ``holm`` step-down, or ``dunnett`` single-step
   with the exact critical value for a shared control), as the report's donor-level test
   does with the analysis' post-test setting. Student, not Welch: every donor mean has the same
   variance under the model (same mice per donor), the pooled test is exact, and it is
   the mixed model's test; Welch would spend df estimating a difference that is not there.

How this is the mixed model's test
----------------------------------
Fit the change from baseline on the window days with::

    change ~ arm * day + (1 | donor) + (1 | animal)

``arm`` coded against control and ``day`` sum-to-zero, so each arm coefficient is the
arm's window contrast. With every donor having the same mice and days (the designs
simulated here; donors per arm may differ), the model's strata are donors within arms,
animals within donors and readings within animals; the arm contrast lies in the donor
stratum only. When the REML estimates of the variance components are inside the
parameter space they equal the ANOVA (moment) estimates, the estimated variance of the
arm contrast is ``MS_donor / (mice * days) * (1/n_arm + 1/n_control)``, and
``MS_donor / (mice * days)`` is exactly the pooled within-arm variance of the donor
means. Hence the Wald t of the arm coefficient equals the donor-mean t, its F = t^2, and
the Satterthwaite df (lmerTest) is exactly ``donors - arms``. (When a variance estimate
sits on the boundary at 0 the model pools strata and the two differ; the donor-mean test
is the one with the stated size.) The test suite checks the identity of the t statistics
with statsmodels ``MixedLM``; ``benchmarks/power_lme4.R`` reports lmerTest's df.

A reading-level model with baseline days, ``value ~ arm * day + (1|donor) + (1|animal)``,
is not this test: random intercepts cancel in any within-animal contrast, so it judges
the arm x period interaction against the within-animal residual and ignores donor
variation of the response (pseudo-replication). It needs ``(1|donor:period)`` and
``(1|animal:period)`` terms to become the donor-level test.

Lost mice
---------
With ``PowerDesign.dropout = p`` each mouse is lost before its post-injection readings
with probability ``p``. A donor keeps ``m_j ~ Binomial(mice, 1 - p)`` mice; its mean is
normal with variance ``V(m_j)`` (below, with ``m_j`` for ``mice_per_donor``); a donor
with none drops out, and the pooled t test is run on the donors kept (df = donors kept
- arms). The exact noncentral-t value and the refit route assume complete studies.

Choosing a design
-----------------
:func:`plan_power` computes a grid, chooses among the designs reaching the target by a
rule (``'fewest-animals'``, the reduction principle, optionally with a cost per donor;
or ``'fewest-donors'``) and looks past the grid's edges (extends a range down when its
lower edge reaches the target, tries more donors with fewer mice while they could need
fewer animals, says when nothing reaches the target); see :mod:`._power_plan`.

Fast and slow routes
--------------------
In these designs a donor's mean window contrast is exactly normal with mean the arm's
window-averaged effect and variance (:func:`donor_mean_variance`)::

    V = sd_donor^2 + (sd_animal^2 + sd_residual^2 * w' R w) / mice_per_donor

with ``w`` the contrast weights over the animal's test days (-1/n_baseline on baseline
days, 1/n_window on window days). ``simulate_power(method='sufficient')`` draws the donor
means directly, shape (n_sims, n_donors); ``method='full'`` simulates every reading and
computes the same statistic; :func:`refit_power` refits the mixed model to every
simulated study; :func:`exact_power` gives the noncentral-t value the simulations
estimate. The tests check that all four agree within Monte-Carlo error.
"""

from __future__ import annotations

from nocilab.design._power_design import (
    Effect,
    PowerDesign,
    VarianceComponents,
    arm_contrast_means,
    contrast_weights,
    donor_mean_variance,
    reference_design,
    variance_from_fit,
)
from nocilab.design._power_grid import (
    RULES,
    GridCell,
    GridChoice,
    PowerGrid,
    cell_seed,
    power_grid,
    rule_text,
)
from nocilab.design._power_plan import MIN_DONORS_PER_ARM, NearbyDesign, PowerPlan, plan_power
from nocilab.design._power_refit import refit_power
from nocilab.design._power_sim import (
    ArmPower,
    PowerResult,
    donor_means_from_readings,
    donor_t_statistics,
    donor_t_statistics_with_losses,
    exact_power,
    simulate_power,
    simulate_readings,
)

__all__ = [
    "ArmPower",
    "Effect",
    "GridCell",
    "GridChoice",
    "MIN_DONORS_PER_ARM",
    "NearbyDesign",
    "PowerDesign",
    "PowerGrid",
    "PowerPlan",
    "PowerResult",
    "RULES",
    "VarianceComponents",
    "arm_contrast_means",
    "cell_seed",
    "contrast_weights",
    "donor_mean_variance",
    "donor_means_from_readings",
    "donor_t_statistics",
    "donor_t_statistics_with_losses",
    "exact_power",
    "plan_power",
    "power_grid",
    "reference_design",
    "refit_power",
    "rule_text",
    "simulate_power",
    "simulate_readings",
    "variance_from_fit",
]
