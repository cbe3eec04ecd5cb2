provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "trainer" {
  kind      = "job"
  num_nodes = 2
  resources {
    cpus = "2+"
  }
  run = "torchrun train.py"
}

workload "api" {
  kind = "service"
  resources {
    cpus = "2+"
  }
  run = "python serve.py"
}

workload "done" {
  kind = "job"
  resources {
    cpus = "2+"
  }
  run = "python once.py"
}
