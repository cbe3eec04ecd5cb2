"""The local provider: workloads run as real processes on this machine."""
