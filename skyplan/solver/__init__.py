"""Solver: solve(problem) -> Solution, a pure function. The OR-Tools placement model chooses one offer (or fleet slot) per node group, minimising expected cost under capacity, quota, budget, region, spread and co-location constraints, with ranked fallbacks and an explanation of each choice. No I/O.

``solve.py`` runs the stages; ``problem.py`` holds the input (``Problem``, ``SolveOptions``, ``build_problem``);
``items.py`` items, options and the fit rules; ``candidates.py`` each item's
options, found through offer indexes (skyplan.catalog.index) and cut to the
ones that can matter; ``capacity.py`` quotas and fleets; ``classes.py``
merging, pruning and the closed form; ``decompose.py`` the split into
independent components; ``mip.py`` the OR-Tools model (written out in its
docstring); ``infeasible.py`` the explanations of infeasibility;
``assemble.py`` the Solution; ``model.py`` the output values; ``memo.py`` the
placements kept from an earlier solve whose inputs did not change (incremental re-plan).
"""

from skyplan.solver.model import Candidate, GroupPlacement, Placement, Solution, WorkloadPlacement
from skyplan.solver.problem import Problem, SolveOptions, build_problem
from skyplan.solver.solve import solve  # binds the function over the submodule's name


__all__ = ["Candidate", "GroupPlacement", "Placement", "Problem", "Solution", "SolveOptions",
           "WorkloadPlacement", "build_problem", "solve"]
