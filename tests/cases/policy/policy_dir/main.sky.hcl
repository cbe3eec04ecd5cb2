provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

skyplan {
  policy_dirs = ["policies"]
}

workload "big" {
  replicas = 3
  resources {
    accelerators = ["L4:1"]
  }
  run = "python a.py"
}
