provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

workload "bounded" {
  duration_hours = 4
  resources {
    accelerators = ["L4:1"]
  }
  run = "python a.py"
}

workload "open_ended" {
  resources {
    accelerators = ["L4:1"]
  }
  run = "python b.py"
}

policy "gpu-jobs-end" {
  enforcement   = "advisory"
  condition     = change.gpus == 0 || change.duration_hours != null
  error_message = "${change.address} uses ${change.gpus} GPU(s) with no duration_hours"
}

policy "plan-size" {
  condition     = plan.add <= 5 && plan.monthly_cost_after < 10000
  error_message = "too big"
}
