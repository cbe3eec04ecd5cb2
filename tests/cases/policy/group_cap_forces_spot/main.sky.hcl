provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
}

provider "gcp" {
  project = "team-ml"
  regions = ["us-central1", "europe-west4"]
}

# a and b together may spend $1.55/h: on demand they would cost $1.60/h, so both
# go to spot; "other" asks for the same and stays on demand, outside the group.
workload "a" {
  tags           = { team = "vision" }
  pricing        = ["on_demand", "spot"]
  duration_hours = 10
  resources {
    accelerators = ["L4:1"]
  }
  placement {
    regions = ["us-*"]
  }
  run = "python a.py"
}

workload "b" {
  tags           = { team = "vision" }
  pricing        = ["on_demand", "spot"]
  duration_hours = 10
  resources {
    accelerators = ["L4:1"]
  }
  placement {
    regions = ["us-*"]
  }
  run = "python b.py"
}

workload "other" {
  tags           = { team = "nlp" }
  pricing        = ["on_demand", "spot"]
  duration_hours = 10
  resources {
    accelerators = ["L4:1"]
  }
  placement {
    regions = ["us-*"]
  }
  run = "python c.py"
}

policy "vision-budget" {
  match_tags      = { team = "vision" }
  max_hourly_cost = 1.55
}
