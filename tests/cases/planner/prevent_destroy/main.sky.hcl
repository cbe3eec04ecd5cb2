provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "db" {
  kind = "service"
  resources {
    cpus = "2+"
  }
  run = "postgres"
  lifecycle {
    prevent_destroy = true
  }
}
