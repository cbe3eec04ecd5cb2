variable "n" { type = number }
workload "shard" { run = "shard ${var.n}" }
output "n" { value = var.n }
