"""Power planning in words: the effect's scale, the chosen design, the grid's edges.

Shared by the command's summary, ``power_summary.json`` and the sample-size paragraph
(:mod:`nocilab.design.planning`), so that all three say the same thing.
"""

from __future__ import annotations

from nocilab.design._power_design import Effect
from nocilab.design._power_grid import GridChoice, mice_text
from nocilab.design._power_plan import NearbyDesign, PowerPlan


def _amount(x: float, unit: str) -> str:
    return f"{x:.3g} {unit}" if unit else f"{x:.3g}"


def effect_scale_text(effect: Effect, unit: str = "", *, prefix: str = "effect ",
                      short: bool = False) -> str:
    """The peak effect with its scale, e.g. ``'effect 25 % of baseline = 30 g (baseline
    120 g)'`` or ``'effect 30 g (absolute) = 25 % of baseline (baseline 120 g)'``.

    ``unit`` is the reading's unit (``g``, ``s``); without it the amounts are said to be
    in reading units. ``prefix`` starts the text; ``short`` leaves out the baseline
    (``'effect 25 % of baseline = 30 g'``, for a figure title).
    """
    mag = _amount(effect.magnitude, unit)
    units = "" if unit else ", in reading units"
    base = effect.baseline_mean
    if short:
        if effect.scale == "percent":
            return f"{prefix}{effect.size:g} % of baseline = {mag}"
        return f"{prefix}{mag} (absolute)"
    if effect.scale == "percent":
        return (f"{prefix}{effect.size:g} % of baseline = {mag} (baseline "
                f"{base:.4g}{' ' + unit if unit else ''}{units})")
    if base is None:
        return f"{prefix}{mag} (absolute{units})"
    pct = 100.0 * effect.magnitude / base
    return (f"{prefix}{mag} (absolute) = {pct:.3g} % of baseline (baseline "
            f"{base:.4g}{' ' + unit if unit else ''}{units})")


def design_text(choice: GridChoice) -> str:
    """'11 donors per arm x 1 mouse per donor (22 animals)'."""
    return (f"{choice.donors_per_arm} donors per arm x {mice_text(choice.mice_per_donor)} "
            f"per donor ({choice.n_animals} animals)")


def _beats(x: NearbyDesign, plan: PowerPlan) -> bool:
    return (x.ci_low if plan.conservative else x.power) >= plan.target


def summary_lines(plan: PowerPlan) -> list[str]:
    """The command's summary after the table: the chosen design and the rule, the other
    rule's design, the designs just below, and the grid's edges."""
    c = plan.chosen
    if not c.reached:
        return [c.message, *plan.extended, *plan.notes]
    out = [f"chosen ({c.rule_text}, --choose {plan.rule}): {c.message}"]
    for other in (plan.fewest_animals, plan.fewest_donors):
        if other.rule != plan.rule:
            same = (other.donors_per_arm, other.mice_per_donor) == (c.donors_per_arm,
                                                                     c.mice_per_donor)
            out.append(f"{other.rule_text}: " + ("the same design" if same else
                       f"{design_text(other)}, power {other.power:.3f}"))
    for x in plan.next_smaller:
        where = "" if x.in_grid else ", outside the grid"
        verdict = "also reaches the target" if _beats(x, plan) else "below the target"
        out.append(f"next smaller: {x.text}: power {x.power:.3f} ({verdict}{where})")
    return out + list(plan.extended) + list(plan.notes)


def choice_sentences(plan: PowerPlan, *, arms: int) -> list[str]:
    """The sample-size paragraph's sentences on the chosen design (see
    :func:`nocilab.design.planning.sample_size_statement`)."""
    c = plan.chosen
    if not c.reached:
        return [_sentence(c.message)] + [_sentence(n) for n in plan.notes]
    why = ("the reduction principle" if plan.rule == "fewest-animals"
           else "donors being the scarcer resource")
    parts = [
        f"Among the designs reaching the target power of {plan.target:g}, the one with the "
        f"{c.rule_text} was chosen ({why}; rule {plan.rule}): with {c.donors_per_arm} donors "
        f"per arm and {mice_text(c.mice_per_donor)} per donor ({c.n_animals} mice in "
        f"{arms} arms), the power is {c.power:.3f} (95% Monte-Carlo interval "
        f"{c.ci_low:.3f}-{c.ci_high:.3f})."]
    below = [x for x in plan.next_smaller if not _beats(x, plan)]
    above = [x for x in plan.next_smaller if _beats(x, plan)]
    if below:
        parts.append("The next smaller designs fall short: " + "; ".join(
            f"{x.text} has power {x.power:.3f}" for x in below) + ".")
    if above:
        parts.append("The grid's lower edge was hit: " + "; ".join(
            f"{x.text}, outside the grid, reaches {x.power:.3f} too" for x in above) + ".")
    if not plan.next_smaller:
        parts.append("No smaller design exists: this is the fewest donors and mice the "
                     "test allows.")
    for other in (plan.fewest_animals, plan.fewest_donors):
        if other.rule != plan.rule and other.reached:
            same = (other.donors_per_arm, other.mice_per_donor) == (c.donors_per_arm,
                                                                     c.mice_per_donor)
            parts.append(f"The design with the {other.rule_text} is the same." if same else
                         f"The design with the {other.rule_text} would be "
                         f"{design_text(other).replace('animals)', 'mice)')}, power "
                         f"{other.power:.3f}.")
    parts += [_sentence(x) for x in plan.extended + plan.notes]
    return parts


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
