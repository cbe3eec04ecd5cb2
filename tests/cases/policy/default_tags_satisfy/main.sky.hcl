provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
  default_tags = { cost_center = "ml-42", team = "platform" }
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

workload "a" {
  tags = { team = "vision" }
  resources {
    cpus = "2+"
  }
  placement {
    providers = ["aws"]
  }
  run = "python a.py"
}

policy "tags" {
  require_tags = ["team", "cost_center"]
}
