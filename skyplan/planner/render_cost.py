"""The plan's spread over providers and its cost against the cheapest
single-cloud plan, as the text and markdown renderers show them.

Both read ``plan.solver["spread"]`` and ``plan.solver["single_cloud"]`` (made by
the solver, see skyplan.solver.single_cloud), so a saved plan file shows the
same figures.
"""

from __future__ import annotations

from typing import Mapping

from skyplan.planner.model import Plan


def money(x: float) -> str:
    return f"${x:,.2f}"


def groups_text(n: int) -> str:
    return f"{n} group" if n == 1 else f"{n} groups"


def spread_rows(plan: Plan) -> list[Mapping]:
    return list(plan.solver.get("spread") or ())


def spread_lines(plan: Plan) -> list[str]:
    """One line per provider (and fleet) the plan's placements use, when it uses
    more than one."""
    rows = spread_rows(plan)
    if len({r["provider"] for r in rows}) < 2:
        return []
    out = []
    for r in rows:
        where = r["provider"] + (f" ({r['fleet']})" if r.get("fleet") else "")
        out.append(f"  {where}: {groups_text(r['groups'])}, {r['nodes']} node(s), {money(r['hourly_cost'])}/h")
    return out


def short(reason: str, limit: int = 140) -> str:
    """The solver's reason cut to its first clause, for one line of the plan
    (the JSON keeps it whole)."""
    text = reason.split("; ")[0]
    if len(text) > limit:
        head, sep, _ = text.partition(": ")
        text = head if sep and 20 <= len(head) <= limit else text[: limit - 3].rstrip() + "..."
    return text


def _delta(saving: float, best_total: float) -> str:
    if abs(saving) < 0.005:
        return "the same cost"
    pct = abs(saving) / best_total * 100 if best_total else 0.0
    return f"saves {money(saving)} ({pct:.1f}%)" if saving > 0 else f"costs {money(-saving)} ({pct:.1f}%) more"


def comparison_lines(plan: Plan) -> list[str]:
    """This plan against each single-cloud plan, then the verdict line
    ("vs cheapest single-cloud plan: ... on aws"); empty when the plan buys from
    fewer than two clouds."""
    sc = plan.solver.get("single_cloud")
    if not sc:
        return []
    out = ["Compared with one cloud (the same constraints, a spread over providers kept over regions; "
           "existing fleets and clusters still used):",
           f"  this plan ({' + '.join(sc['clouds_used'])}): {money(sc['hourly_cost'])}/h, "
           f"est. {money(sc['total_cost'])} over the workloads' durations"]
    for p in sc["plans"]:
        if p["total_cost"] is None:
            out.append(f"  {p['cloud']} only: not feasible: {short(p['reason'])}")
            continue
        best_found = " (best found within the time limit)" if p["status"] == "feasible" else ""
        out.append(f"  {p['cloud']} only: {money(p['hourly_cost'])}/h, est. {money(p['total_cost'])}{best_found}")
    out.append(verdict(sc))
    return out


def verdict(sc: Mapping) -> str:
    best = next((p for p in sc["plans"] if p["total_cost"] is not None), None)
    if best is None:
        return "vs cheapest single-cloud plan: not feasible on one cloud."
    return (f"vs cheapest single-cloud plan: {money(best['total_cost'])} on {best['cloud']} "
            f"({money(best['hourly_cost'])}/h); this plan {_delta(sc['saving'], best['total_cost'])}.")


def fleet_lines(plan: Plan) -> list[str]:
    """One line per provisioned fleet: its cost against its workloads bought
    directly, and whether it is bought (``plan.solver["fleets"]``)."""
    out = []
    for c in plan.solver.get("fleets", ()):
        hours = f"{c['hours']:g} h"
        direct = ("no other place for the workloads on it" if c.get("direct_cost") is None else
                  f"{money(c['direct_cost'])} on demand for the workloads on it")
        verdict = "bought (keep = true)" if c.get("keep") else ("bought" if c["bought"] else "not bought")
        est = (" (estimated at the list price: a Capacity Block costs its offering's upfront fee, "
               "known when apply buys it)") if c.get("estimate") else ""
        q = c.get("offering")
        if q:
            from skyplan.planner.fleets import short_time

            est = (f" (the upfront fee of its Capacity Block offering in {q['zone']}, "
                   f"{short_time(q['starts_at'])} to {short_time(q['ends_at'])})")
        out.append(f"  {c['address']}: {money(c['fleet_cost'])} for {c['nodes']} \u00d7 {c['instance_type']} "
                   f"reserved {hours} vs {direct}: {verdict}{est}")
    return out
