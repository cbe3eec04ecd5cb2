provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

workload "train" {
  resources {
    accelerators = ["L4:1"]
  }
  run = "python train.py"
}

policy "tiny" {
  description     = "a budget no GPU fits"
  max_hourly_cost = 0.10
}
