provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

workload "base" {
  kind = "job"
  resources {
    cpus = "2+"
  }
  run = "python base.py"
}

workload "app" {
  kind       = "service"
  depends_on = [workload.base]
  resources {
    cpus = "2+"
  }
  run = "python app.py"
}

workload "unrelated" {
  kind = "job"
  resources {
    cpus = "2+"
  }
  run = "python other.py"
}
