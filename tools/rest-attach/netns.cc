#include "netns.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

extern char** environ;

namespace bagpipe::tools {

namespace {

constexpr size_t kMaxIfNameLength = 15;  // IFNAMSIZ - 1 (the original's LINUX_DEV_LEN)
constexpr int kVpnSideMtu = 9000;        // the original's DEFAULT_MTU
constexpr int kNetnsSideMtu = 1420;

std::vector<std::string> InNetns(const std::string& netns, std::vector<std::string> argv) {
    std::vector<std::string> out{"ip", "netns", "exec", netns};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

// create_veth_pair: any previous pair is removed first (also from OVS, which
// would otherwise take the re-created interface back).
bool CreateVethPair(const CommandRunner& run, const std::string& vpn_if,
                    const std::string& ns_if, const std::string& netns, std::string* error) {
    (void)run.Run(InNetns(netns, {"ip", "link", "delete", ns_if}), false, error);
    (void)run.Run({"ovs-vsctl", "del-port", vpn_if}, false, error);
    (void)run.Run({"ip", "link", "delete", vpn_if}, false, error);
    (void)run.Run({"ip", "link", "add", vpn_if, "type", "veth", "peer", "name", ns_if, "netns",
                   netns, "mtu", "65535"},
                  false, error);
    return run.Run({"ip", "link", "set", "dev", vpn_if, "up"}, true, error) &&
           run.Run({"ip", "link", "set", "dev", vpn_if, "mtu", std::to_string(kVpnSideMtu)}, true,
                   error) &&
           run.Run(InNetns(netns, {"ip", "link", "set", "dev", ns_if, "up"}), true, error);
}

}  // namespace

CommandOutput RunCommand(const std::vector<std::string>& argv) {
    CommandOutput out;
    if (argv.empty()) return out;
    int fds[2];
    if (pipe(fds) != 0) {
        out.output = std::string("pipe: ") + std::strerror(errno);
        return out;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        out.output = argv[0] + ": " + std::strerror(rc);
        return out;
    }
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n > 0) {
            out.output.append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return out;
    }
    if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
    return out;
}

std::string ShellJoin(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        const bool plain =
            !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_./:=@,+%") == std::string::npos;
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a) {
            if (c == '\'') out += "'\\''";
            else out += c;
        }
        out += '\'';
    }
    return out;
}

bool CommandRunner::Run(const std::vector<std::string>& argv, bool must_succeed,
                        std::string* error) const {
    if (dry_run_) {
        std::printf("dry-run, not running: %s\n", ShellJoin(argv).c_str());
        return true;
    }
    const CommandOutput r = RunCommand(argv);
    if (r.exit_code == 0 || !must_succeed) return true;
    std::string out = r.output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    *error = "command failed (" +
             (r.exit_code < 0 ? std::string("not run") : "exit " + std::to_string(r.exit_code)) +
             "): " + ShellJoin(argv) + (out.empty() ? "" : ": " + out);
    return false;
}

std::string VpnToNetnsIfName(const std::string& netns) {
    return ("ns-" + netns).substr(0, kMaxIfNameLength);
}

bool CreateNetnsPort(const CommandRunner& run, const NetnsPort& port, std::string* error) {
    std::printf("Will plug local namespace %s into network\n", port.netns.c_str());
    (void)run.Run({"ip", "netns", "add", port.netns}, false, error);
    if (port.vlan) {
        if (!CreateVethPair(run, port.if2netns, "ns2vpn-raw", port.netns, error)) return false;
        // (An if2vpn left by an earlier run without --ovs-vlan would block the VLAN.)
        (void)run.Run(InNetns(port.netns, {"ip", "link", "delete", port.if2vpn}), false, error);
        if (!run.Run(InNetns(port.netns, {"ip", "link", "add", "link", "ns2vpn-raw", "name",
                                          port.if2vpn, "type", "vlan", "id",
                                          std::to_string(*port.vlan)}),
                     true, error) ||
            !run.Run(InNetns(port.netns, {"ip", "link", "set", port.if2vpn, "up"}), true, error))
            return false;
    } else if (!CreateVethPair(run, port.if2netns, port.if2vpn, port.netns, error)) {
        return false;
    }
    if (port.mac && !run.Run(InNetns(port.netns, {"ip", "link", "set", port.if2vpn, "address",
                                                  *port.mac}),
                             true, error))
        return false;
    (void)run.Run(InNetns(port.netns, {"ip", "addr", "add", port.ip, "dev", port.if2vpn}), false,
                  error);
    (void)run.Run(InNetns(port.netns, {"ip", "route", "add", "default", "dev", port.if2vpn, "via",
                                       port.gateway}),
                  false, error);
    (void)run.Run(InNetns(port.netns, {"ip", "link", "set", port.if2vpn, "mtu",
                                       std::to_string(kNetnsSideMtu)}),
                  false, error);
    return true;
}

std::optional<std::string> ReadDeviceMac(const std::string& netns, const std::string& ifname,
                                         std::string* error) {
    const std::vector<std::string> argv{"ip", "-n", netns, "-j", "link", "show", "dev", ifname};
    const CommandOutput r = RunCommand(argv);
    if (r.exit_code == 0) {
        const auto j = nlohmann::json::parse(r.output, nullptr, false);
        if (j.is_array() && !j.empty() && j[0].is_object() && j[0].contains("address") &&
            j[0]["address"].is_string()) {
            std::string mac = j[0]["address"].get<std::string>();
            for (char& c : mac) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return mac;
        }
    }
    std::string out = r.output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    *error = "cannot read the MAC address of " + ifname + " in namespace " + netns + " (" +
             ShellJoin(argv) + (out.empty() ? "" : ": " + out) + ")";
    return std::nullopt;
}

}  // namespace bagpipe::tools
