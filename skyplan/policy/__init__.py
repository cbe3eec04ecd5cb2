"""Policies: guardrails on cost, place and tags that every plan and apply is checked against.

A ``policy "name" { ... }`` block (in the configuration or in a shared folder named
by ``-policy-dir`` / ``skyplan { policy_dirs = [...] }``) becomes a ``Policy``
(``model.py``, read by ``load.py``). Before solving, mandatory cost and place rules
narrow what the solver may choose (``constrain.py``: allow/deny lists filter the
candidates, caps become the solver's budget or a workload's ``max_hourly_cost``), so
the plan is the cheapest that passes; after planning every rule is checked against
the plan (``check.py``) and the results travel on ``Plan.policy_results``.
"""

from skyplan.policy.check import check_plan, failures, render_results
from skyplan.policy.constrain import constrain
from skyplan.policy.load import load_dirs, read_blocks
from skyplan.policy.model import Policy

__all__ = ["Policy", "read_blocks", "load_dirs", "constrain", "check_plan", "failures", "render_results"]
