// ChildProcess — one external command (ovs-ofctl, ovs-vsctl) run
// asynchronously on an asio io_context, with RAII ownership of the child.
//
// Purpose: the ovs dataplane driver programs Open vSwitch through its CLI
// tools without ever blocking the daemon's event loop.
//
// How: the child is started with posix_spawnp (PATH lookup, the daemon's
// environment, so OVS_RUNDIR selects a private OVS instance; every fd >= 3
// closed). Its stdin is a memfd holding the whole input text, its stdout and
// stderr are memfds too: no pipe can fill up and no read or write can block,
// so the only event to wait for is the exit, watched through a pidfd
// (pidfd_open, Linux >= 5.3) wrapped in an asio stream_descriptor. A timer
// kills the child (SIGKILL, by PID) when it exceeds its timeout; the exit is
// then still reaped through the pidfd.
//
// Invariants: while the object lives and the child has not been reaped, the
// object owns the PID; the destructor kills (SIGKILL) and reaps it
// (waitpid on a killed child returns at once), and the completion handler is
// then never called. The handler is called at most once, on the io_context's
// thread, after the child was reaped. Executor: the io_context given to
// Start; not thread-safe.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bagpipe::dataplane::ovs {

// What became of a command.
struct ChildResult {
    bool started = false;     // false: spawn failed, see `error`
    bool timed_out = false;   // killed by the timeout
    int exit_code = -1;       // when it exited normally
    int signal = 0;           // when killed by a signal
    std::string out;          // stdout (bounded)
    std::string err;          // stderr (bounded)
    std::string error;        // spawn / system error text

    bool ok() const { return started && !timed_out && signal == 0 && exit_code == 0; }
    // "exit status 1: <stderr first line>" / "timed out" / "spawn: ..." for logs.
    std::string Describe() const;
};

class ChildProcess {
public:
    using Handler = std::function<void(ChildResult)>;

    explicit ChildProcess(boost::asio::io_context& io);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Starts argv[0] (searched in PATH) with `input` on its stdin. On a
    // spawn failure the handler is posted (never called from inside Start)
    // with started = false. Start may be called once.
    void Start(std::vector<std::string> argv, std::string input,
               std::chrono::milliseconds timeout, Handler handler);

    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }

private:
    void OnExit();
    void Fail(std::string error);

    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor pidfd_;
    boost::asio::steady_timer timer_;
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    bool timed_out_ = false;
    Handler handler_;
    // Flag shared with the posted handlers: false once this object is gone.
    std::shared_ptr<bool> alive_;
};

}  // namespace bagpipe::dataplane::ovs
