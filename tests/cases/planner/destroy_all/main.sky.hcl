provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "api" {
  kind = "service"
  resources {
    cpus = "2+"
  }
  run   = "python serve.py"
  ports = [8080]
}

workload "etl" {
  kind = "job"
  resources {
    cpus = "2+"
  }
  run = "python etl.py"
}
