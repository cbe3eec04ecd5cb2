provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

workload "a" {
  tags = { team = "vision" }
  resources {
    accelerators = ["L4:1"]
  }
  run = "python a.py"
}

workload "b" {
  tags = { team = "vision" }
  resources {
    accelerators = ["L4:1"]
  }
  run = "python b.py"
}

workload "other" {
  tags = { team = "nlp" }
  resources {
    accelerators = ["L4:1"]
  }
  run = "python c.py"
}

policy "vision-budget" {
  match_tags       = { team = "vision" }
  max_monthly_cost = 1000
}

policy "per-workload" {
  per             = "workload"
  addresses       = ["workload.*"]
  max_hourly_cost = 0.80
}
