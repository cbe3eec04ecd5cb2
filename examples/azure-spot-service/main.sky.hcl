# A spot inference service and an on-demand evaluation service on Azure, in the
# cheapest of three regions. skyplan creates each region's resource group,
# security group, virtual network and subnet when missing, and removes exactly
# those on destroy.
#
#   skyplan plan examples/azure-spot-service -var subscription_id=$AZURE_SUBSCRIPTION_ID

variable "subscription_id" {
  type        = string
  description = "the Azure subscription to launch in"
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "endpoint" {
  type        = string
  description = "a private Resource Manager endpoint (leave unset for Azure's public one)"
  default     = null
}

provider "azure" {
  subscription_id = var.subscription_id
  regions         = ["eastus", "westus2", "westeurope"]
  endpoint        = var.endpoint
}

workload "api" {
  kind    = "service"
  pricing = ["spot"]

  resources {
    instance_type = "Standard_D8s_v5"
  }

  setup = "pip install fastapi uvicorn"
  run   = "uvicorn app:api --host 0.0.0.0 --port 8000"
  ports = [8000]
}

workload "eval" {
  kind = "service"

  resources {
    cpus   = "4+"
    memory = "16+"
  }

  run = "python -m http.server 8080"
}
