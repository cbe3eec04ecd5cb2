# An interactive development node: one GPU machine, on-demand, with its port open.

variable "accelerators" {
  type    = list(string)
  default = ["L4:1", "A10G:1"]
}

variable "image" {
  type    = string
  default = null
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
  ports = [22]
}

output "ip" {
  value = workload.box.ip
}
