"""Deadline-aware spot: the Uniform Progress decision policy (pure) for jobs that must finish by a deadline."""

from skyplan.deadline.policy import Decision, Mode, Progress, decide

__all__ = ["Decision", "Mode", "Progress", "decide"]
