provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "shard" {
  count = 2
  kind  = "job"
  resources {
    cpus = "2+"
  }
  run = "python shard.py"
}
