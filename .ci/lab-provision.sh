#!/usr/bin/env bash
# Provision the reader lab on Debian bookworm (run as root, before `pip install` of the project):
#   - apt packages: pcscd, vpcd driver, SoftHSM2, OpenSC, and what pyscard needs to build
#   - a 15-reader vpcd driver built from Debian's own source package (stock driver has 2 readers)
# Idempotent and fast on a provisioned machine. Does not touch /etc/apt and starts nothing:
# the tests' fixtures start pcscd and the emulated cards themselves.
#
# Env: LAB_DIR (default /opt/tokenfleet-lab), VPCD_STOCK=1 (skip the build, use 2 readers).
# Result: $LAB_DIR/libifdvpcd15.so, or $LAB_DIR/libifdvpcd.so -> stock driver on fallback.
set -euo pipefail

LAB_DIR=${LAB_DIR:-/opt/tokenfleet-lab}
SLOTS=15
DRIVER=$LAB_DIR/libifdvpcd$SLOTS.so
STOCK=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
log() { printf '[lab-provision] %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    log "not root: cannot install packages; the hardware tests will skip"; exit 0
fi

DEBS="pcscd libpcsclite-dev libpcsclite1 swig gcc python3-dev vsmartcard-vpcd softhsm2 libsofthsm2
      opensc opensc-pkcs11 pcsc-tools"
missing=
for p in $DEBS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "apt-get install:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# apt never starts pcscd in a container, but on a systemd host the socket unit owns /run/pcscd
if command -v systemctl >/dev/null && systemctl is-active -q pcscd.socket 2>/dev/null; then
    log "stopping the system pcscd (socket activation) so the lab can own /run/pcscd"
    systemctl stop pcscd.socket pcscd || true
fi

build_driver() {
    # private apt state with a deb-src twin of the machine's Debian sources: /etc/apt untouched
    local work A S src
    work=$(mktemp -d); A=$work/apt; S=$work/src
    trap 'rm -rf "$work"' RETURN
    mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/sources.d" "$S"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            > "$A/sources.d/src.sources"
    else
        grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | sed 's/^deb /deb-src /' \
            > "$A/sources.d/src.list"
    fi
    local APTO=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$A/sources.d"
                -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o APT::Sandbox::User=root)
    apt-get "${APTO[@]}" -qq update
    (cd "$S" && apt-get "${APTO[@]}" -qq source --download-only vsmartcard-vpcd)
    tar -C "$S" -xzf "$S"/vsmartcard_*.orig.tar.gz --wildcards \
        '*/virtualsmartcard/src/vpcd' '*/virtualsmartcard/src/ifd-vpcd'
    src=$(echo "$S"/vsmartcard-*/virtualsmartcard/src)
    # loopback only (stock listens on all interfaces) and TCP_NODELAY on the card socket
    python3 - "$src/vpcd/vpcd.c" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("htonl(INADDR_ANY)", "htonl(INADDR_LOOPBACK)", 1)
old = """    if (FD_ISSET(server, &rfds))
        return accept(server, (struct sockaddr *) &client_sockaddr,
                &client_socklen);
"""
new = """    if (FD_ISSET(server, &rfds)) {
        SOCKET client = accept(server, (struct sockaddr *) &client_sockaddr,
                &client_socklen);
        int one = 1;
        if (client != INVALID_SOCKET)
            setsockopt(client, IPPROTO_TCP, TCP_NODELAY, (void *) &one, sizeof one);
        return client;
    }
"""
if old in s:
    s = s.replace(old, new).replace(
        "#include <sys/socket.h>\n", "#include <sys/socket.h>\n#include <netinet/tcp.h>\n", 1)
open(p, "w").write(s)
PY
    mkdir -p "$LAB_DIR"
    gcc -shared -fPIC -O2 -DVPCDSLOTS=$SLOTS -DHAVE_DEBUGLOG_H -DHAVE_DECL_MSG_NOSIGNAL=1 \
        -I/usr/include/PCSC -I"$src/vpcd" "$src/ifd-vpcd/ifd-vpcd.c" "$src/vpcd/vpcd.c" \
        "$src/vpcd/lock.c" -o "$DRIVER.tmp" -lpthread
    mv "$DRIVER.tmp" "$DRIVER"
}

mkdir -p "$LAB_DIR"
if [ -f "$DRIVER" ]; then
    log "driver present: $DRIVER"
elif [ "${VPCD_STOCK:-0}" = 1 ]; then
    ln -sf "$STOCK" "$LAB_DIR/libifdvpcd.so"
    log "VPCD_STOCK=1: using Debian's stock driver (2 readers): $LAB_DIR/libifdvpcd.so"
else
    log "building the $SLOTS-reader vpcd driver from Debian's source package"
    set +e; ( set -e; build_driver ); rc=$?; set -e
    if [ $rc != 0 ] || [ ! -f "$DRIVER" ]; then
        rm -f "$DRIVER" "$DRIVER.tmp"
        ln -sf "$STOCK" "$LAB_DIR/libifdvpcd.so"
        log "WARNING: building the vpcd driver failed; falling back to Debian's stock driver" \
            "(2 readers only): $LAB_DIR/libifdvpcd.so"
    else
        log "built $DRIVER"
    fi
fi
# vpcd listens on 127.0.0.1:35963+i, inside Linux's ephemeral port range: a client socket (one
# of the tests' PostgreSQL connections) that happens to get one of those ports keeps pcscd from
# opening its reader ("Address already in use"). Keep them out of the ephemeral range.
RESERVED=/proc/sys/net/ipv4/ip_local_reserved_ports
PORTS="35963-$((35963 + SLOTS - 1))"
if [ -w "$RESERVED" ] && ! grep -q "$PORTS" "$RESERVED"; then
    current=$(cat "$RESERVED")
    echo "${current:+$current,}$PORTS" > "$RESERVED" && log "reserved the vpcd ports $PORTS"
fi
log "provisioned"
