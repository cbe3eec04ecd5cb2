"""The Kubernetes provider: Jobs and Deployments through the kubernetes client (imported lazily)."""
