# Batch inference over datasets: a prepare step, then N independent shards per
# dataset on the cheapest spot capacity anywhere allowed.

variable "model" {
  type = string
}

variable "datasets" {
  type        = map(string)
  description = "dataset name -> its URI"
}

variable "shards" {
  type    = number
  default = 4
}

variable "accelerators" {
  type    = list(string)
  default = ["L4:1", "A10G:1", "T4:1"]
}

variable "allowed_providers" {
  type    = list(string)
  default = []
}

workload "prepare" {
  for_each = var.datasets
  resources {
    cpus = "4+"
  }
  pricing = ["spot", "on_demand"]
  run     = "python prepare.py --input ${each.value} --shards ${var.shards}"
}

module "shards" {
  for_each          = var.datasets
  source            = "./shards"
  model             = var.model
  dataset           = each.key
  uri               = each.value
  shards            = var.shards
  accelerators      = var.accelerators
  allowed_providers = var.allowed_providers
  depends_on        = [workload.prepare]
}

output "datasets" {
  value = keys(var.datasets)
}
