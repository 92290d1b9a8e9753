#!/bin/bash
# crun, as containerd's "crun" runtime handler runs it (its BinaryName), for containerd 1.7.24.
#
# Debian bookworm's crun 1.8.1 knows the OCI runtime spec up to 1.1 and refuses any bundle whose
# config.json declares a later version ("unknown version specified"); trixie's containerd 1.7.24
# declares 1.2.0 in every bundle it writes, though the CRI plugin's specs use nothing 1.2 added
# (trixie's own crun, which knows 1.2, needs trixie's glibc). So `create` and `run` first
# declare the bundle 1.1.0, and every call is crun's own. Bash alone: a few milliseconds, where
# each runc run costs about ten (docs/benchmarks.md).
args=("$@")
command="" bundle=""
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    create | run) command=${args[i]} ;;
    --bundle | -b) bundle=${args[i + 1]:-} ;;
    --bundle=*) bundle=${args[i]#--bundle=} ;;
  esac
done
if [[ -n $command && -n $bundle && -f $bundle/config.json ]]; then
  spec=$(<"$bundle/config.json")
  declared=${spec/'"ociVersion":"1.2.0"'/'"ociVersion":"1.1.0"'}
  [[ $declared == "$spec" ]] || printf '%s' "$declared" >"$bundle/config.json"
fi
exec "${CRUN:-/usr/bin/crun}" "$@"
