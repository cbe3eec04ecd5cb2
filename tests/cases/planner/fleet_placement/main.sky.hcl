provider "aws" {
  regions = ["us-east-1"]
}

fleet "pool" {
  provider = "aws"
  nodes    = 2
  keep     = true
  resources {
    accelerators = ["L4:1"]
  }
}

workload "infer" {
  kind = "service"
  resources {
    accelerators = ["L4:1"]
  }
  placement {
    fleet = fleet.pool
  }
  run = "python serve.py"
}
