# A node image with its pod images already in containerd, as kind's node images carry theirs
# (scripts/seed-node-image.sh builds it from the node image and what docker/containerd-seed.sh
# made in a container of it): the unpacked layers, shared by every node, and containerd's state,
# which a node copies into its containerd volume when that is new (docker/node-entrypoint.sh). A
# node of the plain image (`docker compose build`) imports the same archives at its start instead.
ARG NODE_IMAGE
FROM ${NODE_IMAGE}
ADD store.tar /opt/podplane/containerd-store/
