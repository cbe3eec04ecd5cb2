# Fine-tune a 7B model with LoRA on one GPU, wherever it is cheapest.

skyplan {
  required_version = ">= 0.1"
}

variable "base_model" {
  type        = string
  default     = "meta-llama/Llama-3.1-8B"
  description = "Hugging Face model id to fine-tune"
}

variable "hf_token" {
  type      = string
  default   = ""
  sensitive = true
}

variable "epochs" {
  type    = number
  default = 3
  validation {
    condition     = var.epochs >= 1 && var.epochs <= 20
    error_message = "epochs must be between 1 and 20."
  }
}

provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}

variable "gcp_project" {
  type        = string
  default     = null
  description = "GCP project to launch in (default: the one Application Default Credentials name)"
}

variable "gcp_endpoint" {
  type        = string
  default     = null
  description = "a private or local Compute Engine endpoint (default: the public API)"
}

provider "gcp" {
  project  = var.gcp_project
  endpoint = var.gcp_endpoint
  regions  = ["us-central1"]
}

workload "finetune" {
  resources {
    accelerators = ["L4:1", "A10G:1", "A100:1"]
    cpus         = "8+"
    memory       = "32+"
    disk_gb      = 200
  }
  pricing        = ["spot", "on_demand"]
  duration_hours = 6

  placement {
    providers = ["aws", "gcp"]
    regions   = ["us-*"]
  }

  image = "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime"
  setup = "pip install peft transformers datasets"
  run   = <<-EOT
    python finetune.py --model ${var.base_model} --epochs ${var.epochs} --lora
  EOT
  env = {
    HF_TOKEN = var.hf_token
  }
}

output "model" {
  value = var.base_model
}
