# Serve a model with 3 replicas spread across regions, each on one GPU node.

variable "model" {
  type    = string
  default = "mistralai/Mistral-7B-Instruct-v0.3"
}

variable "replicas" {
  type    = number
  default = 3
}

provider "aws" {
  regions = ["us-east-1", "us-west-2", "eu-west-1"]
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
  regions  = ["us-central1", "us-east4", "europe-west4"]
}

workload "api" {
  kind     = "service"
  replicas = var.replicas

  resources {
    accelerators = ["L4:1", "A10G:1"]
    cpus         = "8+"
    memory       = "32+"
  }
  pricing = "on_demand"

  placement {
    providers = ["aws", "gcp"]
    spread    = "region"
  }

  image = "vllm/vllm-openai:v0.6.3"
  run   = "python -m vllm.entrypoints.openai.api_server --model ${var.model} --port 8000"
  ports = [8000]

  lifecycle {
    create_before_destroy = true
  }
}

output "endpoint_port" {
  value = workload.api.ports[0]
}

output "ip" {
  value = workload.api.ip
}
