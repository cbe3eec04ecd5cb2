"""skyplan: declare AI workloads and fleets once in HCL, plan where they run at the
lowest cost across clouds, and apply the plan through real provider SDKs.

The pipeline is one direction with plain immutable values between stages:
config -> solver -> planner -> apply -> providers, with state (SQLite) and
refresh (drift) feeding the planner. See ARCHITECTURE.md.
"""

__version__ = "0.1.0"
