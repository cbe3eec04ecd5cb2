provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "prepare" {
  kind = "job"
  resources {
    cpus = "2+"
  }
  run = "python prep.py"
}

workload "train" {
  kind       = "job"
  depends_on = [workload.prepare]
  resources {
    accelerators = ["L4:1"]
  }
  run = "python train.py"
}
