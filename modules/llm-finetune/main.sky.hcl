# A multi-node fine-tuning job: spot first, on-demand as the fallback, resumable
# from its checkpoint location, under a budget cap.

variable "model" {
  type        = string
  description = "Hugging Face model id to fine-tune"
}

variable "accelerators" {
  type        = list(string)
  default     = ["H100:8", "A100-80GB:8"]
  description = "accelerator choices per node, cheapest first wins"
}

variable "num_nodes" {
  type    = number
  default = 2
  validation {
    condition     = var.num_nodes >= 1
    error_message = "num_nodes must be at least 1"
  }
}

variable "checkpoint_uri" {
  type        = string
  description = "where checkpoints are written and resumed from (s3://..., gs://...)"
}

variable "max_hourly_cost" {
  type        = number
  default     = null
  description = "budget cap in $/h for the whole job"
}

variable "duration_hours" {
  type    = number
  default = 12
}

variable "allowed_providers" {
  type    = list(string)
  default = []
}

workload "train" {
  kind      = "job"
  num_nodes = var.num_nodes
  resources {
    accelerators = var.accelerators
  }
  pricing         = ["spot", "on_demand"]
  max_hourly_cost = var.max_hourly_cost
  duration_hours  = var.duration_hours
  placement {
    providers = var.allowed_providers
  }
  env = {
    MODEL          = var.model
    CHECKPOINT_URI = var.checkpoint_uri
    RESUME_CMD     = "torchrun --resume-from ${var.checkpoint_uri}/latest"
  }
  run = "torchrun --nnodes ${var.num_nodes} train.py --model ${var.model} --checkpoint-dir ${var.checkpoint_uri} --resume-if-present"
}

output "job" {
  value = workload.train.address
}

output "region" {
  value = workload.train.region
}
