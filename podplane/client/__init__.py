"""Talking to the apiserver, as client-go does: the typed client (clientset), credentials,
retries (retry_after, conflicts), informers (informer), one of each kind per process
(informer_factory), the work queue (workqueue), leader election (leaderelection), the event
recorder (events), and the client's metrics."""
