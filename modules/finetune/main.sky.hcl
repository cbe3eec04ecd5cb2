# A reusable fine-tuning job: one workload, parameterised by model and GPU.

variable "model" {
  type        = string
  description = "Hugging Face model id"
}

variable "accelerators" {
  type    = list(string)
  default = ["L4:1", "A10G:1"]
}

variable "pricing" {
  type    = list(string)
  default = ["spot", "on_demand"]
}

variable "providers" {
  type    = list(string)
  default = []
}

workload "job" {
  resources {
    accelerators = var.accelerators
    cpus         = "8+"
  }
  pricing = var.pricing
  placement {
    providers = var.providers
  }
  run = "python finetune.py --model ${var.model}"
}

output "id" {
  value = workload.job.id
}

output "model" {
  value = var.model
}
