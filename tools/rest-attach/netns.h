// `bagpipe-rest-attach --port netns`: the network namespace and veth pair the
// original creates with `ip` (and `ovs-vsctl`) commands, run here as
// subprocesses (posix_spawnp, argument vectors, no shell).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace bagpipe::tools {

// Runs commands, or only prints them ("dry-run: ip netns add x") when
// dry_run. Output of a command is captured and shown only when a command
// that must succeed fails.
class CommandRunner {
public:
    explicit CommandRunner(bool dry_run) : dry_run_(dry_run) {}

    // false (with `error` set) only when `must_succeed` and the command fails;
    // failures of other commands are ignored, as the original's
    // raise_on_error=False commands are.
    bool Run(const std::vector<std::string>& argv, bool must_succeed, std::string* error) const;
    bool dry_run() const { return dry_run_; }

private:
    bool dry_run_;
};

struct CommandOutput {
    int exit_code = -1;  // -1: could not be started or killed by a signal
    std::string output;  // stdout and stderr, interleaved
};

// Runs argv now (also in dry-run mode: used for read-only queries).
CommandOutput RunCommand(const std::vector<std::string>& argv);

// `a 'b c'`: argv as a shell would need it, for messages.
std::string ShellJoin(const std::vector<std::string>& argv);

struct NetnsPort {
    std::string netns;     // namespace name
    std::string if2netns;  // host side of the veth pair: the port attached to the VPN
    std::string if2vpn;    // namespace side ("tovpn")
    std::string ip;        // "10.0.0.1/24"
    std::string gateway;   // default route inside the namespace
    std::optional<std::string> mac;  // forced MAC of the namespace side
    std::optional<int> vlan;         // --ovs-vlan: if2vpn is a VLAN on "ns2vpn-raw"
};

// Interface name of the host side of the veth: "ns-<netns>", cut to 15
// characters (IFNAMSIZ - 1).
std::string VpnToNetnsIfName(const std::string& netns);

// create_special_netns_port: namespace, veth pair (MTU 65535 then 9000 on the
// host side), optional VLAN sub-interface, MAC, address, default route via
// the gateway, MTU 1420 inside.
bool CreateNetnsPort(const CommandRunner& runner, const NetnsPort& port, std::string* error);

// The MAC address of `ifname` inside `netns` (`ip -n NS -j link show dev IF`),
// lower case; nullopt (with `error`) when it cannot be read.
std::optional<std::string> ReadDeviceMac(const std::string& netns, const std::string& ifname,
                                         std::string* error);

}  // namespace bagpipe::tools
