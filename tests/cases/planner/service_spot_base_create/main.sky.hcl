provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "api" {
  kind     = "service"
  replicas = 3
  pricing  = ["spot", "on_demand"]
  resources {
    instance_type = "m5.large"
  }
  run = "python serve.py"
  spot {
    base_on_demand_replicas = 1
    fallback_on_demand      = true
  }
}
