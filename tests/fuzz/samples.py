"""One valid object of every served kind (the create-only reviews too), as a user's manifest
gives it (JSON, Kubernetes' field names): what the fuzzer mutates. A kind added to
resources.SERVED without a sample here fails tests/unit/fuzz/test_samples.py, so every new kind
is born under the fuzzer."""

from __future__ import annotations

import copy

from podplane.apimachinery import resources
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import CreateOnlyResource, Resource

_POD_SPEC: JSONObject = {
    "containers": [
        {
            "name": "main",
            "image": "busybox",
            "command": ["sleep", "3600"],
            "env": [{"name": "A", "value": "b"}],
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        }
    ],
    "restartPolicy": "Always",
}
_TEMPLATE: JSONObject = {"metadata": {"labels": {"app": "fuzz"}}, "spec": _POD_SPEC}
_SELECTOR: JSONObject = {"matchLabels": {"app": "fuzz"}}

_RULE: JSONObject = {
    "operations": ["CREATE", "UPDATE"],
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "resources": ["deployments"],
}
# Webhooks are called (MutatingAdmissionWebhook, ValidatingAdmissionWebhook): the sample's
# selects no namespace and fails open, so a test that leaves it stored changes no later write.
_WEBHOOK: JSONObject = {
    "name": "fuzz.example.com",
    "clientConfig": {"service": {"namespace": "fuzz", "name": "hook", "path": "/validate"}},
    "rules": [_RULE],
    "failurePolicy": "Ignore",
    "namespaceSelector": {"matchLabels": {"podplane.example.com/fuzz-webhook": "never"}},
    "sideEffects": "None",
    "admissionReviewVersions": ["v1"],
    "matchConditions": [{"name": "not-system", "expression": "request.namespace != 'kube-system'"}],
}

# Each kind's object without apiVersion, kind and metadata.name/namespace (sample() adds them).
_BODIES: dict[str, JSONObject] = {
    "pods": {"metadata": {"labels": {"app": "fuzz"}}, "spec": _POD_SPEC},
    "nodes": {
        "metadata": {"labels": {"kubernetes.io/hostname": "fuzz"}},
        "spec": {"podCIDR": "10.244.9.0/24", "unschedulable": True},
    },
    "namespaces": {"metadata": {"labels": {"team": "fuzz"}}},
    "events": {
        "involvedObject": {"kind": "Pod", "name": "web", "apiVersion": "v1"},
        "reason": "Started",
        "message": "Started container main",
        "type": "Normal",
        "source": {"component": "fuzz"},
        "count": 1,
    },
    "leases": {"spec": {"holderIdentity": "fuzz", "leaseDurationSeconds": 15}},
    "replicationcontrollers": {
        "spec": {"replicas": 0, "selector": {"app": "fuzz"}, "template": _TEMPLATE}
    },
    "replicasets": {"spec": {"replicas": 0, "selector": _SELECTOR, "template": _TEMPLATE}},
    "deployments": {
        "spec": {
            "replicas": 0,
            "selector": _SELECTOR,
            "template": _TEMPLATE,
            "strategy": {"type": "RollingUpdate"},
        }
    },
    "jobs": {
        "spec": {
            "suspend": True,
            "backoffLimit": 1,
            "template": {
                "metadata": {"labels": {"app": "fuzz"}},
                "spec": {**_POD_SPEC, "restartPolicy": "Never"},
            },
        }
    },
    "configmaps": {"data": {"key": "value", "config.yaml": "a: 1\n"}},
    "secrets": {"type": "Opaque", "stringData": {"password": "hunter2"}},
    "podtemplates": {"template": _TEMPLATE},
    # A limit range and a quota that bound nothing the tests create: the fuzz namespace is
    # shared, and one on pods would refuse other tests' pods.
    "limitranges": {
        "spec": {"limits": [{"type": "example.com/widget", "max": {"example.com/size": "10"}}]}
    },
    "resourcequotas": {"spec": {"hard": {"count/widgets.fuzz.example.com": "10"}}},
    "horizontalpodautoscalers": {
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 3,
        }
    },
    "persistentvolumes": {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/fuzz"},
            "persistentVolumeReclaimPolicy": "Retain",
        }
    },
    "persistentvolumeclaims": {
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "manual",
        }
    },
    "storageclasses": {
        "provisioner": "podplane.io/local-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    },
    "services": {
        "spec": {
            "selector": {"app": "fuzz"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        }
    },
    "endpoints": {
        "subsets": [
            {
                "addresses": [{"ip": "10.244.1.5"}],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        ]
    },
    "serviceaccounts": {
        "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": "registry"}],
        "secrets": [{"name": "token"}],
    },
    "roles": {
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            {
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "resourceNames": ["web"],
                "verbs": ["get"],
            },
        ]
    },
    "clusterroles": {
        "metadata": {"labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
        "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
            {"nonResourceURLs": ["/healthz", "/metrics/*"], "verbs": ["get"]},
        ],
    },
    "rolebindings": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "jane"},
            {"kind": "ServiceAccount", "name": "default", "namespace": "fuzz"},
        ],
    },
    "clusterrolebindings": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"}],
    },
    "endpointslices": {
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    },
    "daemonsets": {
        "spec": {
            "selector": _SELECTOR,
            "template": _TEMPLATE,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        }
    },
    "statefulsets": {
        "spec": {
            "replicas": 0,
            "serviceName": "fuzz",
            "selector": _SELECTOR,
            "template": _TEMPLATE,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        }
    },
    "controllerrevisions": {
        "data": {"spec": {"template": {"$patch": "replace", **_TEMPLATE}}},
        "revision": 1,
    },
    "cronjobs": {
        "spec": {
            "schedule": "*/5 * * * *",
            "suspend": True,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "metadata": {"labels": {"app": "fuzz"}},
                        "spec": {**_POD_SPEC, "restartPolicy": "OnFailure"},
                    }
                }
            },
        }
    },
    "poddisruptionbudgets": {"spec": {"minAvailable": 1, "selector": _SELECTOR}},
    "priorityclasses": {
        "value": 1000,
        "globalDefault": False,
        "description": "fuzz",
        "preemptionPolicy": "PreemptLowerPriority",
    },
    "runtimeclasses": {"handler": "runc"},
    "ingresses": {
        "spec": {
            "rules": [
                {
                    "host": "fuzz.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        }
    },
    "ingressclasses": {"spec": {"controller": "example.com/fuzz"}},
    "csidrivers": {"spec": {"attachRequired": False, "podInfoOnMount": True}},
    "csinodes": {"spec": {"drivers": [{"name": "fuzz.csi.example.com", "nodeID": "fuzz-node"}]}},
    "csistoragecapacities": {"storageClassName": "manual", "capacity": "10Gi"},
    "volumeattachments": {
        "spec": {
            "attacher": "fuzz.csi.example.com",
            "nodeName": "fuzz-node",
            "source": {"persistentVolumeName": "fuzz-pv"},
        }
    },
    # A schema and a level no request of the fuzzers (system:masters, always exempt by the
    # mandatory exempt schema, which no write can change or remove for good) is classified to:
    # a mutated one cannot starve them.
    "flowschemas": {
        "spec": {
            "priorityLevelConfiguration": {"name": "global-default"},
            "matchingPrecedence": 5000,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [
                {
                    "subjects": [{"kind": "User", "user": {"name": "fuzz-nobody"}}],
                    "resourceRules": [
                        {
                            "verbs": ["get"],
                            "apiGroups": [""],
                            "resources": ["pods"],
                            "namespaces": ["*"],
                        }
                    ],
                }
            ],
        }
    },
    "prioritylevelconfigurations": {
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 1,
                "lendablePercent": 0,
                "limitResponse": {
                    "type": "Queue",
                    "queuing": {"queues": 4, "handSize": 2, "queueLengthLimit": 10},
                },
            },
        }
    },
    "networkpolicies": {
        "spec": {
            "podSelector": _SELECTOR,
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 80}]}],
        }
    },
    # A PEM CERTIFICATE REQUEST (CN fuzz, an EC P-256 key), base64 as JSON gives bytes.
    "certificatesigningrequests": {
        "spec": {
            "request": (
                "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIS01IRUNBUUF3RHpFTk1Bc0dBMVVF"
                "QXd3RVpuVjZlakJaTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSApBMElBQkJ2cWdRTWR1MUJKcTN1"
                "US9wVDliazZBQUJObHZoR1EvUlExM3JQWWlhTWVORGluMlQ4cWpqZHJyeTBECjh4eEN6N3NFb2s1bFFN"
                "KyttVkgzcXA5STdiR2dBREFLQmdncWhrak9QUVFEQWdOSkFEQkdBaUVBOUkwaUZHamwKMUR4dkZIK2pJ"
                "VzhESEtGKzJYbDd4cFd5QTNTeVhpS3hiK0FDSVFEVFg3aGhaMFN3SXM1ZlVNS3BPYXorQm9vSwpyTlZu"
                "Q1ltK3hXRXN1R1U4Rnc9PQotLS0tLUVORCBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K"
            ),
            "signerName": "example.com/fuzz",
            "expirationSeconds": 3600,
            "usages": ["digital signature", "client auth"],
        }
    },
    # Named <version>.<group>: sample() makes its group from the name it is given. A service's,
    # so the apiserver's autoregister loop leaves it alone.
    "apiservices": {
        "spec": {
            "service": {"namespace": "fuzz", "name": "fuzz-api", "port": 443},
            "version": "v1",
            "groupPriorityMinimum": 100,
            "versionPriority": 10,
        }
    },
    "mutatingwebhookconfigurations": {"webhooks": [_WEBHOOK | {"reinvocationPolicy": "IfNeeded"}]},
    "validatingwebhookconfigurations": {"webhooks": [_WEBHOOK]},
    "validatingadmissionpolicies": {
        "spec": {
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": {"resourceRules": [_RULE]},
            "variables": [{"name": "replicas", "expression": "object.spec.replicas"}],
            "validations": [
                {
                    "expression": "variables.replicas <= 5",
                    "messageExpression": "'too many: ' + string(variables.replicas)",
                    "reason": "Invalid",
                }
            ],
            "auditAnnotations": [{"key": "replicas", "valueExpression": "'seen'"}],
        }
    },
    "validatingadmissionpolicybindings": {
        "spec": {
            "policyName": "fuzz",
            "paramRef": {"name": "limits", "namespace": "fuzz", "parameterNotFoundAction": "Deny"},
            "validationActions": ["Deny", "Audit"],
        }
    },
    # Named <plural>.<group>: sample() makes its names from the name it is given.
    "customresourcedefinitions": {
        "spec": {
            "group": "fuzz.example.com",
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": {"type": "object", "properties": {}}},
                        }
                    },
                }
            ],
        }
    },
}


_ACCESS = {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "fuzz"}}
_REVIEWS: dict[str, JSONObject] = {
    "selfsubjectaccessreviews": {"spec": _ACCESS},
    "selfsubjectrulesreviews": {"spec": {"namespace": "fuzz"}},
    "subjectaccessreviews": {"spec": {**_ACCESS, "user": "jane", "groups": ["devs"]}},
    "localsubjectaccessreviews": {"spec": {**_ACCESS, "user": "jane"}},
    "selfsubjectreviews": {},
    "tokenreviews": {"spec": {"token": "not-a-token", "audiences": ["https://kubernetes"]}},
}
_BODIES.update(_REVIEWS)

# The other served versions whose objects differ from their storage version's, by
# (apiVersion, plural).
_VERSION_BODIES: dict[tuple[str, str], JSONObject] = {
    ("events.k8s.io/v1", "events"): {
        "eventTime": "2026-01-02T03:04:05.000000Z",
        "reportingController": "example.com/fuzz",
        "reportingInstance": "fuzz-1",
        "action": "Starting",
        "reason": "Started",
        "regarding": {"kind": "Pod", "name": "web", "namespace": "fuzz", "apiVersion": "v1"},
        "note": "Started container main",
        "type": "Normal",
    },
}


def kinds_without_sample() -> list[str]:
    return [r.plural for r in resources.SERVED if r.plural not in _BODIES]


def sample(resource: Resource | CreateOnlyResource, name: str, namespace: str = "") -> JSONObject:
    """A fresh copy of the kind's valid object named `name` (in `namespace` if it is
    namespaced)."""
    body = _VERSION_BODIES.get((resource.api_version, resource.plural), _BODIES[resource.plural])
    obj = copy.deepcopy(body)
    meta = obj.setdefault("metadata", {})
    meta["name"] = name
    if resource is resources.CUSTOM_RESOURCE_DEFINITION:
        plural = "".join(ch for ch in name.lower() if ch.isalnum()) or "fuzz"
        kind = plural.capitalize()
        obj["spec"]["names"] = {"plural": plural, "singular": f"{plural}x", "kind": kind}
        meta["name"] = f"{plural}.{obj['spec']['group']}"
    if resource is resources.API_SERVICE:
        label = "".join(ch for ch in name.lower() if ch.isalnum()) or "fuzz"
        obj["spec"]["group"] = f"{label}.fuzz.example.com"
        meta["name"] = f"v1.{obj['spec']['group']}"
    if resource.namespaced and namespace:
        meta["namespace"] = namespace
    return {"apiVersion": resource.api_version, "kind": resource.kind, **obj}
