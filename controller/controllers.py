"""Every controller the controller-manager can run, by the name `--controllers` uses
(kube-controller-manager's NewControllerDescriptors). The one module that knows them all: the
controller folders import only the shared libraries (controller.framework, controller.history),
never this or each other."""

from __future__ import annotations

from controller.certificates.approver import CSRApprovingController
from controller.certificates.cleaner import CSRCleanerController
from controller.certificates.signer import csr_signing_controller
from controller.clusterroleaggregation.controller import ClusterRoleAggregationController
from controller.cronjob.controller import CronJobController
from controller.daemon.controller import DaemonSetsController
from controller.deployment.controller import DeploymentController
from controller.disruption.controller import DisruptionController
from controller.endpoint.controller import EndpointsController
from controller.endpointslice.controller import EndpointSliceController
from controller.ephemeral.controller import EphemeralVolumeController
from controller.framework.manager import ControllerFactory, WithOptions
from controller.garbagecollector.controller import GarbageCollector
from controller.job.controller import JobController
from controller.localpath.controller import LocalPathProvisioner
from controller.namespace.controller import NamespaceController
from controller.nodeipam.controller import NodeIpamController
from controller.nodelifecycle.controller import NodeLifecycleController
from controller.persistentvolume.controller import PersistentVolumeController
from controller.podautoscaler.controller import horizontal_controller
from controller.podgc.controller import PodGCController
from controller.pvcprotection.controller import PVCProtectionController
from controller.pvprotection.controller import PVProtectionController
from controller.replicaset.controller import ReplicaSetController
from controller.resourcequota.controller import ResourceQuotaController
from controller.rootcacertpublisher.controller import RootCACertPublisher
from controller.serviceaccount.controller import ServiceAccountsController
from controller.servicelb.controller import ServiceLBController
from controller.statefulset.controller import StatefulSetController
from controller.tokencleaner.controller import TokenCleaner

CONTROLLERS: dict[str, ControllerFactory] = {
    "namespace": NamespaceController,
    "nodelifecycle": WithOptions(
        lambda client, informers, o: NodeLifecycleController(
            client,
            informers,
            monitor_grace_period=o.node_monitor_grace_period,
            startup_grace_period=o.node_startup_grace_period,
        )
    ),
    "nodeipam": WithOptions(
        lambda client, informers, o: NodeIpamController(
            client,
            informers,
            cluster_cidr=o.cluster_cidr,
            node_cidr_mask_size=o.node_cidr_mask_size,
        )
    ),
    "pod-garbage-collector": WithOptions(
        lambda client, informers, o: PodGCController(
            client, informers, terminated_pod_threshold=o.terminated_pod_gc_threshold
        )
    ),
    "replicationcontroller": ReplicaSetController.for_replication_controllers,
    "replicaset": ReplicaSetController,
    "garbagecollector": GarbageCollector,
    "deployment": DeploymentController,
    "disruption": DisruptionController,
    "resourcequota": ResourceQuotaController,
    "daemonset": DaemonSetsController,
    "statefulset": StatefulSetController,
    "job": JobController,
    "cronjob": CronJobController,
    "horizontalpodautoscaling": WithOptions(horizontal_controller),
    "persistentvolume-binder": PersistentVolumeController,
    "pvc-protection": PVCProtectionController,
    "pv-protection": PVProtectionController,
    "ephemeral-volume": EphemeralVolumeController,
    "local-path-provisioner": WithOptions(
        lambda client, informers, o: LocalPathProvisioner(
            client,
            informers,
            base_dir=o.local_path_dir,
            helper_image=o.local_path_helper_image,
            default_class=o.default_storage_class or None,
        )
    ),
    "endpointslice": EndpointSliceController,
    "endpoint": EndpointsController,
    "service-lb-controller": WithOptions(
        lambda client, informers, o: ServiceLBController(
            client,
            informers,
            pool=o.load_balancer_ip_pool,
            apiserver=o.apiserver,
            load_balancer_class=o.load_balancer_class,
        )
    ),
    "clusterrole-aggregation": ClusterRoleAggregationController,
    "serviceaccount": ServiceAccountsController,
    "root-ca-cert-publisher": WithOptions(
        lambda client, informers, o: RootCACertPublisher(client, informers, o.root_ca)
    ),
    "csrsigning": WithOptions(csr_signing_controller),
    "csrapproving": CSRApprovingController,
    "csrcleaner": CSRCleanerController,
    "tokencleaner": TokenCleaner,
}

# The service account each controller runs as with --use-service-account-credentials:
# kube-controller-manager's ClientBuilder names (controller_policy.go's roles, bound to
# kube-system/<name>). Several controllers share one: node lifecycle and node IPAM are
# node-controller, the three certificate controllers certificate-controller, as on Kubernetes;
# the service load balancer controller is Kubernetes' service-controller. The local-path
# provisioner, which Kubernetes lacks, runs as kube-system/local-path-provisioner with
# podplane's role podplane:controller:local-path-provisioner (apiserver/auth/policy.py).
SERVICE_ACCOUNTS: dict[str, str] = {
    "namespace": "namespace-controller",
    "nodelifecycle": "node-controller",
    "nodeipam": "node-controller",
    "pod-garbage-collector": "pod-garbage-collector",
    "replicationcontroller": "replication-controller",
    "replicaset": "replicaset-controller",
    "garbagecollector": "generic-garbage-collector",
    "deployment": "deployment-controller",
    "disruption": "disruption-controller",
    "resourcequota": "resourcequota-controller",
    "daemonset": "daemon-set-controller",
    "statefulset": "statefulset-controller",
    "job": "job-controller",
    "cronjob": "cronjob-controller",
    "horizontalpodautoscaling": "horizontal-pod-autoscaler",
    "persistentvolume-binder": "persistent-volume-binder",
    "pvc-protection": "pvc-protection-controller",
    "pv-protection": "pv-protection-controller",
    "ephemeral-volume": "ephemeral-volume-controller",
    "local-path-provisioner": "local-path-provisioner",
    "endpointslice": "endpointslice-controller",
    "endpoint": "endpoint-controller",
    "service-lb-controller": "service-controller",
    "clusterrole-aggregation": "clusterrole-aggregation-controller",
    "serviceaccount": "service-account-controller",
    "root-ca-cert-publisher": "root-ca-cert-publisher",
    "csrsigning": "certificate-controller",
    "csrapproving": "certificate-controller",
    "csrcleaner": "certificate-controller",
    "tokencleaner": "token-cleaner",
}
