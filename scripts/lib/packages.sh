# shellcheck shell=bash
# Debian 12 packages BaGPipe needs to build, test and run its interop peers.
# Sourced by scripts/test and scripts/demo: call `bagpipe_install_packages`.
#
# Installs only what is missing (checked with dpkg-query), so a second run is a no-op
# and needs no network. Never add libboost-dev / libboost-all-dev: those are Boost 1.74
# and conflict with libboost1.81-dev.

BAGPIPE_PACKAGES=(
  # toolchain
  cmake g++ make ninja-build pkg-config clang-14 libclang-rt-14-dev
  # libraries
  libboost1.81-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev libinih-dev libmnl-dev
  # packet capture / decode (reference decoder for the captures)
  tshark
  # independent BGP implementations used as interop peers
  gobgpd frr bird2 openbgpd exabgp
  # network namespaces and process tools used by the integration tests
  iproute2 iputils-ping procps psmisc python3
  # real dataplanes: Open vSwitch (userspace datapath, private instances) and captures
  openvswitch-switch tcpdump
  # the route-reflector comparison's chart (bench/rr/compare.sh)
  gnuplot-nox
)

# The maintainer scripts of gobgpd, frr, bird2, openbgpd and exabgp enable and try to start
# their daemon. We stop them from starting during the install (policy-rc.d) and disable the
# units we installed afterwards: a system-wide bgpd on *:179 would get in the way of the tests.

_BAGPIPE_POLICY_RC_CREATED=0

# Remove the temporary policy-rc.d if we created it (also called from the callers' traps,
# so an interrupted install does not leave it behind).
bagpipe_packages_cleanup() {
  if [ "${_BAGPIPE_POLICY_RC_CREATED:-0}" -eq 1 ]; then
    rm -f /usr/sbin/policy-rc.d
    _BAGPIPE_POLICY_RC_CREATED=0
  fi
}

# Print the packages of "$@" that are not installed, one per line.
bagpipe_missing_packages() {
  local p
  for p in "$@"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
      echo "$p"
    fi
  done
}

# Install whatever of BAGPIPE_PACKAGES is missing. Returns apt-get's status.
bagpipe_install_packages() {
  local missing
  mapfile -t missing < <(bagpipe_missing_packages "${BAGPIPE_PACKAGES[@]}")
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "packages: all ${#BAGPIPE_PACKAGES[@]} required Debian packages are installed"
    return 0
  fi
  echo "packages: installing ${#missing[@]} missing package(s): ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "packages: must run as root to install them (or pass --no-install)" >&2
    return 1
  fi

  # tshark asks whether non-root users may capture: answer "no" up front.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections

  # Keep the daemons' package scripts from starting services (exit 101 = "not allowed").
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, created by BaGPipe scripts/lib/packages.sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    _BAGPIPE_POLICY_RC_CREATED=1
  fi

  local rc=0
  apt-get update || rc=$?
  if [ "$rc" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
  fi

  bagpipe_packages_cleanup

  # Do not leave the BGP daemons we just installed enabled at boot (only those we installed).
  if [ "$rc" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
    local pkg unit
    for pkg in "${missing[@]}"; do
      case "$pkg" in
        bird2) unit=bird.service ;;
        gobgpd | frr | openbgpd | exabgp) unit=$pkg.service ;;
        *) continue ;;
      esac
      systemctl disable --quiet "$unit" >/dev/null 2>&1 || true
    done
  fi

  if [ "$rc" -ne 0 ]; then
    echo "packages: apt-get failed (exit $rc)" >&2
  fi
  return "$rc"
}
