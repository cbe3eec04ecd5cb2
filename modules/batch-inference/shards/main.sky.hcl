# The shards of one dataset.

variable "model" { type = string }
variable "dataset" { type = string }
variable "uri" { type = string }
variable "shards" { type = number }
variable "accelerators" { type = list(string) }
variable "allowed_providers" { type = list(string) }

workload "shard" {
  count = var.shards
  resources {
    accelerators = var.accelerators
  }
  pricing = "spot"
  placement {
    providers = var.allowed_providers
  }
  run = "python infer.py --model ${var.model} --input ${var.uri} --shard ${count.index} --of ${var.shards} --output ${var.uri}.out/${var.dataset}"
}
