// A NETLINK_ROUTE socket and the batch request API the Linux drivers program
// the kernel with.
//
//  * NetlinkSocket: the RAII socket (NETLINK_EXT_ACK, NETLINK_CAP_ACK,
//    non-blocking), with a synchronous Transact() (blocking with a timeout)
//    for start-up probing, reset, reconcile and tests.
//  * RequestSink: what a driver submits batches to; AsyncNetlink implements
//    it on the daemon's io_context, tests fake it.
//
// A batch is a list of Requests applied in order: each is sent with its own
// sequence number (dumps without NLM_F_ACK, others with it), several per
// sendmsg, and every reply is collected; the callback receives one Result per
// request, in request order, with the errno and extended ack message of that
// request alone, so that one failing object does not hide the others.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/driver.h"
#include "dataplane/linux/netlink_message.h"

namespace boost::asio {
class io_context;
}

namespace bagpipe::dataplane::netlink {

// One request of a batch, with a description for logs and errors
// ("fdb replace 02:00:00:00:01:02 dev vxlan--x dst 10.0.0.2").
struct Request {
    Message message;
    std::string label;
};

// The outcome of one request.
struct Result {
    std::string label;
    int error = 0;                       // positive errno; 0 = success
    std::string ext_ack;                 // the kernel's extended ack message, if any
    std::vector<std::vector<uint8_t>> replies;  // data messages (GET, dump parts)

    bool ok() const { return error == 0; }
    // "<label>: <strerror>[ (<ext_ack>)]", or "<label>: ok".
    std::string ToString() const;
};

using BatchCallback = std::function<void(std::vector<Result>)>;

// Where a driver sends batches. Executor: the caller's event loop; the
// callback runs later on that loop (never inside Submit), batches complete
// in submission order.
class RequestSink {
public:
    virtual ~RequestSink() = default;
    virtual void Submit(std::vector<Request> batch, BatchCallback done) = 0;
};

// NetlinkSocket — an open NETLINK_ROUTE socket bound to the current network
// namespace (the one of the calling thread when Open runs).
//
// Invariants: fd() is a valid socket until destruction (move leaves the
// source empty); sequence numbers increase and are never 0.
// Executor: single thread; Transact blocks (bounded by its timeout).
class NetlinkSocket {
public:
    static DataplaneResult<NetlinkSocket> Open();
    NetlinkSocket(NetlinkSocket&& other) noexcept;
    NetlinkSocket& operator=(NetlinkSocket&& other) noexcept;
    NetlinkSocket(const NetlinkSocket&) = delete;
    NetlinkSocket& operator=(const NetlinkSocket&) = delete;
    ~NetlinkSocket();

    int fd() const { return fd_; }
    uint32_t port_id() const { return port_id_; }
    uint32_t NextSequence();

    // Sends the batch and waits for every answer, at most `timeout` in all;
    // requests not answered in time get ETIMEDOUT.
    std::vector<Result> Transact(std::vector<Request> batch,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // One request.
    Result Transact(Request request, std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    NetlinkSocket(int fd, uint32_t port_id) : fd_(fd), port_id_(port_id) {}
    int fd_ = -1;
    uint32_t port_id_ = 0;
    uint32_t seq_ = 0;
};

// The ifindex of `name` (synchronous RTM_GETLINK); nullopt when absent or on error.
std::optional<int32_t> ResolveIndex(NetlinkSocket& socket, std::string_view name);
// Every link (synchronous dump); empty on error.
std::vector<LinkInfo> ListLinks(NetlinkSocket& socket);
// Parsed replies of a synchronous dump; nullopt on error (message in *error).
std::optional<std::vector<NeighbourInfo>> ListNeighbours(NetlinkSocket& socket, uint8_t family,
                                                         int32_t ifindex = 0,
                                                         std::string* error = nullptr);

namespace detail {
class AsyncNetlinkImpl;
}

// AsyncNetlink — RequestSink on an io_context: the socket is non-blocking,
// driven by asio::posix::stream_descriptor::async_wait. Batches are queued
// and run one after the other; a batch is sent in chunks of at most
// kChunkBytes (and a dump alone), the next chunk once every answer of the
// previous one arrived. A batch that gets no answer within the timeout ends
// with ETIMEDOUT for the missing answers.
//
// Invariants: callbacks run on the io_context, in submission order, never
// inside Submit. Destroying the object cancels pending I/O; callbacks of
// unfinished batches are then not called.
// Executor: the io_context's (single) thread.
class AsyncNetlink final : public RequestSink {
public:
    static constexpr size_t kChunkBytes = 32 * 1024;

    AsyncNetlink(boost::asio::io_context& io, NetlinkSocket socket,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~AsyncNetlink() override;
    AsyncNetlink(const AsyncNetlink&) = delete;
    AsyncNetlink& operator=(const AsyncNetlink&) = delete;

    void Submit(std::vector<Request> batch, BatchCallback done) override;
    size_t pending_batches() const;

private:
    std::shared_ptr<detail::AsyncNetlinkImpl> impl_;
};

}  // namespace bagpipe::dataplane::netlink
