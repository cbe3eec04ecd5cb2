# A service of three replicas on this machine. Each replica gets its own free port
# (SKYPLAN_PORT); `skyplan status` shows each one READY / NOT READY / STARTING and
# `skyplan output endpoints` where to send traffic. Changing the version rolls the
# replicas one at a time: skyplan apply -var version=v2
variable "version" {
  default = "v1"
}

workload "api" {
  kind     = "service"
  replicas = 3
  ports    = [8000]
  env      = { VERSION = var.version }
  run      = "exec python3 ${path.module}/server.py"

  readiness {
    path              = "/health"
    initial_delay     = "2s"
    period            = "1s"
    failure_threshold = 3
  }

  update {
    strategy        = "rolling"
    max_unavailable = 1
    max_surge       = 1
  }
}

output "endpoints" {
  value = workload.api.endpoints
}
