provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

workload "train" {
  pricing        = ["on_demand", "spot"]
  duration_hours = 10
  resources {
    accelerators = ["L4:1"]
  }
  placement {
    regions = ["us-*"]
  }
  run = "python train.py"
}

policy "gpu-budget" {
  max_monthly_cost = 562.1 # $0.77/h
}
