"""The Kubernetes provider: node groups as Jobs and Deployments in one namespace.

It owns turning a launch request into Kubernetes objects (an Indexed Job with a
headless Service for multi-node jobs; a Deployment and Service for services),
waiting for their pods (giving up with a capacity error on pods that stay
Unschedulable, so apply fails over to a cloud), finding them again by label,
patching them in place and deleting them, and reading live offers from the
cluster's nodes. The kubernetes client is imported only when used.
"""

from skyplan.providers.kubernetes.provider import KubernetesProvider

__all__ = ["KubernetesProvider"]
