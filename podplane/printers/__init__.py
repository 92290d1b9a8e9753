"""Each kind's table, shared by the apiserver and podctl as Kubernetes shares pkg/printers between
the apiserver and kubectl: the column definitions (spec), the cells of a row per kind (pods,
nodes, ...), which table a kind prints as (registry), and the metav1.Table the apiserver answers
`kubectl get` with (table)."""
