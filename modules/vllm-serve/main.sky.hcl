# An OpenAI-compatible vLLM inference service: N replicas spread across regions
# or providers.

variable "model" {
  type        = string
  description = "Hugging Face model id to serve"
}

variable "replicas" {
  type    = number
  default = 2
}

variable "spread" {
  type        = string
  default     = "region"
  description = "spread replicas over \"region\" or \"provider\""
  validation {
    condition     = contains(["region", "provider"], var.spread)
    error_message = "spread must be \"region\" or \"provider\""
  }
}

variable "accelerators" {
  type    = list(string)
  default = ["L4:1", "A10G:1"]
}

variable "port" {
  type    = number
  default = 8000
}

variable "image" {
  type    = string
  default = "vllm/vllm-openai:v0.6.3"
}

variable "allowed_providers" {
  type    = list(string)
  default = []
}

workload "api" {
  kind     = "service"
  replicas = var.replicas
  resources {
    accelerators = var.accelerators
  }
  pricing = "on_demand"
  placement {
    providers = var.allowed_providers
    spread    = var.spread
  }
  image = var.image
  run   = "python -m vllm.entrypoints.openai.api_server --model ${var.model} --port ${var.port}"
  ports = [var.port]
  lifecycle {
    create_before_destroy = true
  }
}

output "port" {
  value = var.port
}

output "endpoint" {
  value = "http://${workload.api.ip}:${var.port}/v1"
}
