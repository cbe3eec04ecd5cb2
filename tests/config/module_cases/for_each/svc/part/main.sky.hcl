variable "tag" { type = string }
workload "side" { run = "side ${var.tag}" }
output "tag" { value = "part-${var.tag}" }
