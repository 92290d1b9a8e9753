"""HorizontalPodAutoscaler between its served versions: autoscaling/v2 (stored) and
autoscaling/v1 (conversion.py), as Kubernetes' pkg/apis/autoscaling/v1/conversion.go."""
