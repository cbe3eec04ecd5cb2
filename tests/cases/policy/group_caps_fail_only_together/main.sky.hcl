# Two L4s of on-demand quota in us-east-1 ($0.80/h there, $0.95/h in
# eu-west-1, in the cases catalog): each team's cap of $1.65/h over its two workloads is met when
# the team takes both, but not for both teams together.
provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
  quota {
    accelerator = "L4"
    max         = 2
    region      = "us-east-1"
  }
}

workload "vision" {
  count   = 2
  tags    = { team = "vision" }
  pricing = ["on_demand"]
  resources {
    accelerators = ["L4:1"]
  }
  run = "python a.py"
}

workload "nlp" {
  count   = 2
  tags    = { team = "nlp" }
  pricing = ["on_demand"]
  resources {
    accelerators = ["L4:1"]
  }
  run = "python b.py"
}

policy "vision-budget" {
  match_tags      = { team = "vision" }
  max_hourly_cost = 1.65
}

policy "nlp-budget" {
  match_tags      = { team = "nlp" }
  max_hourly_cost = 1.65
}
