#!/bin/sh
# The pod images' busybox, built as Docker Hub's busybox:latest is: upstream busybox 1.37.0 with
# busybox's own defconfig and the official image's few changes, plus a root filesystem around it.
# Debian's busybox packages are not that: bookworm's 1.35 is built without
# CONFIG_FEATURE_WGET_TIMEOUT, and there `wget -T N` writes its timeout through a NULL pointer
# (segmentation fault); trixie's 1.37 leaves out 136 applets of the defconfig (nice, nohup,
# pgrep, pkill, printenv, flock, split, ...). The source is Debian's: trixie's source package
# carries upstream's tarball unchanged (checked against upstream's SHA-256 below), so apt is the
# only network access needed. Linked statically, so the image holds no libc: glibc's static
# build still resolves names through /etc/hosts and DNS (tests/integration/images checks it).
#
# One recipe for every copy of the image: docker/node.Dockerfile runs it in its stage
# `busybox-rootfs`, tests/integration/pod_images.py builds that stage. Runs as root in a Debian
# bookworm container.
# Usage: busybox-rootfs.sh ROOTFS (an empty or missing folder)
set -eu
version=1.37.0
sha256=3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4
root=$1
src=/usr/src/busybox
export DEBIAN_FRONTEND=noninteractive

# --- the source: trixie's source package, whose .orig tarball is upstream's ---------------------
cat >/etc/apt/sources.list.d/busybox-source.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt-get update -qq
apt-get install -y -qq --no-install-recommends bzip2 gcc libc6-dev make >/dev/null
mkdir -p "$src.download"
chown _apt "$src.download"  # apt downloads as _apt
cd "$src.download"
apt-get source -qq --download-only --only-source busybox
echo "$sha256  busybox_$version.orig.tar.bz2" | sha256sum -c -
tar -C "${src%/*}" -xjf "busybox_$version.orig.tar.bz2"
mv "${src%/*}/busybox-$version" "$src"
# The build date busybox prints is the release's, as in the official image (reproducible builds).
SOURCE_DATE_EPOCH=$(stat -c %Y "$src")
export SOURCE_DATE_EPOCH
cd "$src"

# --- the configuration: defconfig, static, and what the official image changes ------------------
# The official image sets AR (with create and long names), INOTIFYD and LAST_SUPPORTED_WCHAR=0
# (UTF-8 input passes through), and unsets FEATURE_SYNC_FANCY. The SHA hardware acceleration is
# x86 code only: elsewhere it does not build in 1.37, and unsetting it changes nothing there.
set_conf="CONFIG_STATIC=y CONFIG_AR=y CONFIG_FEATURE_AR_CREATE=y CONFIG_FEATURE_AR_LONG_FILENAMES=y
  CONFIG_INOTIFYD=y CONFIG_LAST_SUPPORTED_WCHAR=0"
unset_conf="CONFIG_FEATURE_SYNC_FANCY"
case $(uname -m) in
  x86_64 | i?86) ;;
  *) unset_conf="$unset_conf CONFIG_SHA1_HWACCEL CONFIG_SHA256_HWACCEL" ;;
esac
make -s defconfig >/dev/null
for conf in $unset_conf; do
  sed -i "s/^$conf=.*/# $conf is not set/" .config
done
for conf_value in $set_conf; do
  conf=${conf_value%%=*}
  sed -i -e "s/^$conf=.*/$conf_value/" -e "s/^# $conf is not set\$/$conf_value/" .config
done
make -s oldconfig </dev/null >/dev/null
for conf_value in $set_conf; do grep -qx "$conf_value" .config; done
for conf in $unset_conf; do if grep -q "^$conf=" .config; then exit 1; fi; done
grep -qx CONFIG_FEATURE_WGET_TIMEOUT=y .config

make -s -j"$(nproc)" busybox >/dev/null 2>build.log || { tail -n 40 build.log >&2; exit 1; }
./busybox wget -T 1 -q -O- http://127.0.0.1:1/ 2>/dev/null || [ $? -eq 1 ]

# --- the root filesystem: the official image's layout ------------------------------------------
# Every applet a hard link in /bin, /usr/bin/env, the buildroot skeleton's users and groups,
# their home folders, /tmp and /var/www as buildroot's device table makes them.
mkdir -p "$root/bin" "$root/usr/bin" "$root/etc" "$root/dev" "$root/proc" "$root/sys" \
  "$root/tmp" "$root/root" "$root/home" "$root/usr/sbin" "$root/var/spool/mail" "$root/var/www"
cp busybox "$root/bin/busybox"
chroot "$root" /bin/busybox --install /bin
ln -s ../../bin/env "$root/usr/bin/env"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
chown 33:33 "$root/var/www"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
EOF
sed -e 's/:.*//' -e 's/$/:*:::::::/' "$root/etc/passwd" >"$root/etc/shadow"
chmod 0600 "$root/etc/shadow"
printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' \
  'networks: files' 'protocols: files' 'services: files' >"$root/etc/nsswitch.conf"
chroot "$root" /bin/sh -ec 'wget --help 2>&1 | grep -q -- "-T SEC"; id nobody >/dev/null'
chroot "$root" /bin/busybox | head -n 1
