"""What the controllers are built from (kubernetes keeps most of it in pkg/controller itself:
controller_utils.go, controller_ref_manager.go): the reconcile loop every controller runs
(reconciler), the manager that runs them together and hands them one shared informer factory
(manager), the cache indexes several controllers ask of the shared informers (indexes), the Object
protocol any API message with metadata satisfies (objects), and what the workload controllers
share about the pods they own: controller references and claiming (controller_ref),
expectations, pod state, the order surplus pods are deleted in (pod_ordering) and slow-start
batches.

Named for what it is to the controllers, the framework they are written against, as kube-scheduler
names its own; "common" would say only that several use it. It imports nothing else of
controller/, so every controller folder may import it and none of them another: the order is
framework <- {deployment, replicaset, job, nodelifecycle, nodeipam, garbagecollector, namespace}
<- controllers (the list of them all) <- __main__."""
