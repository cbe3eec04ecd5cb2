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
  placement {
    providers = ["aws"]
  }
  run = "python train.py"
}

policy "no-aws" {
  denied_providers = ["aws"]
}
