provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "api" {
  kind = "service"
  resources {
    cpus = "8+"
  }
  run = "python serve.py"
  lifecycle {
    create_before_destroy = true
  }
}
