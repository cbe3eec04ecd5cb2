provider "aws" {
  regions = ["us-east-1"]
}

# One of three replicas is gone (its node was preempted or deleted): only that
# replica is launched again; the two that serve keep running.
workload "api" {
  kind     = "service"
  replicas = 3
  resources {
    instance_type = "m5.large"
  }
  run = "python serve.py"
}
