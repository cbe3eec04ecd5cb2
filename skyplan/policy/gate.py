"""Where policies meet the workflow: which policies apply, solving within them,
and apply's refusal (each used by skyplan.workflow and the apply command)."""

from __future__ import annotations

from typing import Callable, Sequence

from skyplan.errors import InfeasibleError, PolicyError
from skyplan.policy.model import Policy


def policies_for(graph, dirs: Sequence[str] = ()) -> tuple[Policy, ...]:
    """The graph's policies and those of the ``-policy-dir`` folders (DiagnosticsError
    on a mistake in them; a folder given twice is read once)."""
    import os

    from skyplan.config.variables import Diags
    from skyplan.errors import DiagnosticsError
    from skyplan.policy.load import load_dirs

    known = set(graph.settings.policy_dirs)
    extra = [d for d in dict.fromkeys(os.path.abspath(d) for d in dirs) if d not in known]
    if not extra:
        return tuple(graph.policies)
    diags = Diags()
    for d in extra:
        if not os.path.isdir(d):
            diags.error(f"Policy folder not found: {d}", None, hint="-policy-dir names a folder of *.sky.hcl policy files")
    found = load_dirs([d for d in extra if os.path.isdir(d)], diags) if not diags.has_errors else ()
    if diags.has_errors:
        raise DiagnosticsError(diags.items)
    return tuple(graph.policies) + tuple(found)


def solve_within(graph, policies: Sequence[Policy], offers, solve: Callable):
    """``solve(graph)`` on the graph narrowed by the mandatory policies. When that is
    infeasible because of a policy (the same problem without them has a placement),
    the error names the binding policy at its file:line:col."""
    from skyplan.policy.constrain import HINT, blamed_policies, constrain

    narrowed, blame = constrain(graph, policies, offers)
    if not blame:
        return solve(narrowed)
    try:
        return solve(narrowed)
    except InfeasibleError as err:
        names = blamed_policies(err, blame)
        if not names:
            try:
                solve(graph)
            except InfeasibleError:
                raise err from None
            names = sorted(set(blame.values()))
        by_name = {p.name: p for p in policies}
        which = ", ".join(f'"{n}" ({by_name[n].where()})' for n in names if n in by_name)
        noun = "policy" if len(names) == 1 else "policies"
        causes = err.causes or [str(err.args[0])]
        raise InfeasibleError(f"No placement satisfies mandatory {noun} {which}", causes=causes,
                              hint=HINT, blame=err.blame) from None


def refuse_failed(results) -> None:
    """Apply's gate: raise PolicyError when a mandatory policy fails."""
    from skyplan.policy.check import failures

    failed = failures(results)
    if not failed:
        return
    lines = [f'{r["policy"]} ({r["source"]}): ' + "; ".join(v["message"] for v in r["violations"][:5])
             + (f" (+{len(r['violations']) - 5} more)" if len(r["violations"]) > 5 else "") for r in failed]
    raise PolicyError("Apply refused: mandatory " + ("policy fails" if len(failed) == 1 else "policies fail")
                      + "".join(f"\n  - {x}" for x in lines),
                      hint="change the configuration so the plan passes, or make the policy advisory")
