"""Talking to the apiserver, as client-go does: the typed client (clientset), credentials,
retries (retry_after, conflicts), informers (informer), the work queue (workqueue), leader
election (leaderelection), the event recorder (events), and the client's metrics."""
