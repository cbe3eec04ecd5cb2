# An interactive development node: one GPU machine, on-demand, with its port open,
# that stops itself when nobody has used it for `autostop`.

variable "accelerators" {
  type    = list(string)
  default = ["L4:1", "A10G:1"]
}

variable "image" {
  type    = string
  default = null
}

variable "autostop" {
  type        = string
  default     = "2h"
  description = "stop the node after it has been idle this long (no login session, nothing on its GPUs)"
}

variable "allowed_providers" {
  type    = list(string)
  default = []
}

workload "box" {
  kind = "service"
  resources {
    accelerators = var.accelerators
    cpus         = "8+"
  }
  pricing = "on_demand"
  placement {
    providers = var.allowed_providers
  }
  image = var.image
  run   = "sleep infinity"
  ports    = [22]
  autostop = var.autostop
}

output "ip" {
  value = workload.box.ip
}
