provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "etl" {
  kind = "job"
  resources {
    cpus = "2+"
  }
  run = "python etl.py --full"
}
