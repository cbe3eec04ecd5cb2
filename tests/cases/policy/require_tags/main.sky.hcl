provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

workload "tagged" {
  tags = { team = "vision", cost_center = "ml-42" }
  resources {
    cpus = "2+"
  }
  run = "python a.py"
}

workload "untagged" {
  tags = { team = "nlp" }
  resources {
    cpus = "2+"
  }
  run = "python b.py"
}

policy "tags" {
  require_tags = ["team", "cost_center"]
}
