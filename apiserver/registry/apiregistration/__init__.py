"""The apiserver's own controller of APIServices (kube-aggregator pkg/controllers/autoregister
with kubernetes' crdregistration): the local APIService of every group/version it serves."""
