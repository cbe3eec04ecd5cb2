variable "model" { type = string }
variable "gpus" {
  type    = number
  default = 1
}
workload "train" {
  resources { cpus = "${var.gpus * 4}+" }
  run = "train --model ${var.model}"
}
output "model" { value = var.model }
