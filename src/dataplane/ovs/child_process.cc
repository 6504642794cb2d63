// ChildProcess (child_process.h).
#include "dataplane/ovs/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

extern char** environ;

namespace bagpipe::dataplane::ovs {

namespace {

constexpr size_t kMaxOutput = 4 << 20;  // bytes kept of stdout / stderr

std::string Errno(std::string_view what) {
    return fmt::format("{}: {}", what, std::strerror(errno));
}

// A memfd holding `data`, positioned at its start; -1 on error.
int MemfdWith(const char* name, const std::string& data) {
    int fd = static_cast<int>(::memfd_create(name, MFD_CLOEXEC));
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return -1;
        }
        done += static_cast<size_t>(n);
    }
    if (::lseek(fd, 0, SEEK_SET) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string ReadAll(int fd) {
    std::string out;
    if (fd < 0 || ::lseek(fd, 0, SEEK_SET) < 0) return out;
    char buf[8192];
    while (out.size() < kMaxOutput) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

void CloseFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

std::string ChildResult::Describe() const {
    if (!started) return fmt::format("not started: {}", error);
    if (timed_out) return "timed out (killed)";
    std::string first = err.substr(0, err.find('\n'));
    if (signal != 0) return fmt::format("killed by signal {}{}{}", signal, first.empty() ? "" : ": ", first);
    if (exit_code == 0) return "ok";
    return fmt::format("exit status {}{}{}", exit_code, first.empty() ? "" : ": ", first);
}

ChildProcess::ChildProcess(boost::asio::io_context& io)
    : io_(io), pidfd_(io), timer_(io), alive_(std::make_shared<bool>(true)) {}

ChildProcess::~ChildProcess() {
    *alive_ = false;
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }
    boost::system::error_code ignored;
    pidfd_.close(ignored);
    CloseFd(out_fd_);
    CloseFd(err_fd_);
}

void ChildProcess::Fail(std::string error) {
    ChildResult r;
    r.error = std::move(error);
    Handler h = std::move(handler_);
    std::shared_ptr<bool> alive = alive_;
    boost::asio::post(io_, [alive, h = std::move(h), r = std::move(r)]() mutable {
        if (*alive && h) h(std::move(r));
    });
}

void ChildProcess::Start(std::vector<std::string> argv, std::string input,
                         std::chrono::milliseconds timeout, Handler handler) {
    handler_ = std::move(handler);
    if (argv.empty()) return Fail("empty command");
    int in_fd = MemfdWith("bagpipe-stdin", input);
    if (in_fd < 0) return Fail(Errno("memfd_create"));
    out_fd_ = static_cast<int>(::memfd_create("bagpipe-stdout", MFD_CLOEXEC));
    err_fd_ = static_cast<int>(::memfd_create("bagpipe-stderr", MFD_CLOEXEC));
    if (out_fd_ < 0 || err_fd_ < 0) {
        ::close(in_fd);
        return Fail(Errno("memfd_create"));
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd_, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd_, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Default signal dispositions and an empty mask in the child.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in_fd);
    if (rc != 0) {
        errno = rc;
        return Fail(Errno(fmt::format("posix_spawnp {}", argv[0])));
    }
    pid_ = pid;

    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
        std::string e = Errno("pidfd_open");
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return Fail(std::move(e));
    }
    pidfd_.assign(pidfd);
    std::shared_ptr<bool> alive = alive_;
    pidfd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, alive](const boost::system::error_code& ec) {
                          if (!*alive || ec == boost::asio::error::operation_aborted) return;
                          OnExit();
                      });
    timer_.expires_after(timeout);
    timer_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (!*alive || ec || pid_ <= 0) return;
        timed_out_ = true;
        ::kill(pid_, SIGKILL);  // the pidfd then becomes readable
    });
}

void ChildProcess::OnExit() {
    ChildResult r;
    r.started = true;
    int status = 0;
    pid_t w;
    while ((w = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    if (w == pid_) {
        if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    } else {
        r.error = Errno("waitpid");
    }
    pid_ = -1;
    timer_.cancel();
    boost::system::error_code ignored;
    pidfd_.close(ignored);
    r.timed_out = timed_out_;
    r.out = ReadAll(out_fd_);
    r.err = ReadAll(err_fd_);
    CloseFd(out_fd_);
    CloseFd(err_fd_);
    Handler h = std::move(handler_);
    if (h) h(std::move(r));
}

}  // namespace bagpipe::dataplane::ovs
