"""The AWS provider: EC2 through boto3 (imported lazily)."""
