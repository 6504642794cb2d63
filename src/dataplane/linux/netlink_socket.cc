// NetlinkSocket, AsyncNetlink and the synchronous helpers (netlink_socket.h).
#include "dataplane/linux/netlink_socket.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <deque>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace bagpipe::dataplane::netlink {

std::string Result::ToString() const {
    if (ok()) return label + ": ok";
    std::string s = fmt::format("{}: {}", label, std::strerror(error));
    if (!ext_ack.empty()) s += fmt::format(" ({})", ext_ack);
    return s;
}

namespace {

constexpr size_t kReceiveBuffer = 64 * 1024;

// Extended ack message (NLMSGERR_ATTR_MSG) of an NLMSG_ERROR or NLMSG_DONE.
std::string ExtAck(const nlmsghdr* nlh, size_t skip) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    if (nlh->nlmsg_len < NLMSG_HDRLEN + skip) return {};
    auto* h = const_cast<nlmsghdr*>(nlh);
    auto* end = static_cast<char*>(mnl_nlmsg_get_payload_tail(h));
    for (auto* a = static_cast<nlattr*>(mnl_nlmsg_get_payload_offset(h, skip));
         mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<char*>(a))); a = mnl_attr_next(a)) {
        if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
            mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
            return mnl_attr_get_str(a);
    }
    return {};
}

}  // namespace

namespace detail {

// One batch in progress: assigns sequence numbers chunk by chunk and routes
// the answers to their requests. Shared by Transact and AsyncNetlink.
class BatchRun {
public:
    BatchRun(std::vector<Request> batch) : requests_(std::move(batch)) {
        results_.resize(requests_.size());
        done_.assign(requests_.size(), false);
        seqs_.assign(requests_.size(), 0);
        for (size_t i = 0; i < requests_.size(); ++i) results_[i].label = requests_[i].label;
    }

    bool finished() const { return next_ == requests_.size() && chunk_pending_ == 0; }
    bool chunk_done() const { return chunk_pending_ == 0; }

    // Numbers the next chunk and returns its bytes (empty when finished).
    std::vector<uint8_t> NextChunk(NetlinkSocket& socket) {
        std::vector<uint8_t> out;
        chunk_begin_ = next_;
        while (next_ < requests_.size()) {
            const Message& m = requests_[next_].message;
            bool dump = m.is_dump();
            if (!out.empty() && (dump || out.size() + m.bytes.size() > AsyncNetlink::kChunkBytes))
                break;
            if (m.bytes.size() < sizeof(nlmsghdr)) {
                results_[next_].error = EINVAL;
                done_[next_] = true;
                ++next_;
                continue;
            }
            size_t off = out.size();
            out.insert(out.end(), m.bytes.begin(), m.bytes.end());
            out.resize(NLMSG_ALIGN(out.size()), 0);
            auto* nlh = reinterpret_cast<nlmsghdr*>(out.data() + off);
            seqs_[next_] = socket.NextSequence();
            nlh->nlmsg_seq = seqs_[next_];
            nlh->nlmsg_pid = 0;
            ++chunk_pending_;
            ++next_;
            if (dump) break;
        }
        return out;
    }

    // A chunk that could not be sent: its requests fail with `error`.
    void FailChunk(int error) {
        for (size_t i = chunk_begin_; i < next_; ++i) Finish(i, error, {});
    }
    // Every request still waiting fails with `error` (timeout).
    void FailAll(int error) {
        for (size_t i = 0; i < requests_.size(); ++i)
            if (!done_[i]) {
                results_[i].error = error;
                done_[i] = true;
            }
        chunk_pending_ = 0;
        next_ = requests_.size();
    }

    void Feed(std::span<const uint8_t> buffer) {
        for (std::span<const uint8_t> m : SplitMessages(buffer)) {
            const auto* nlh = reinterpret_cast<const nlmsghdr*>(m.data());
            auto idx = Find(nlh->nlmsg_seq);
            if (!idx) continue;  // late answer of a timed-out batch, or a notification
            size_t i = *idx;
            const Message& req = requests_[i].message;
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
                    Finish(i, EPROTO, {});
                    continue;
                }
                const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                size_t skip = (nlh->nlmsg_flags & NLM_F_CAPPED)
                                  ? sizeof(nlmsgerr)
                                  : sizeof(int) + e->msg.nlmsg_len;
                Finish(i, -e->error, ExtAck(nlh, skip));
            } else if (nlh->nlmsg_type == NLMSG_DONE) {
                int error = 0;
                if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
                    std::memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(int));
                Finish(i, -error, ExtAck(nlh, sizeof(int)));
            } else {
                results_[i].replies.emplace_back(m.begin(), m.end());
                if (!req.is_dump() && !(req.flags() & NLM_F_ACK)) Finish(i, 0, {});
            }
        }
    }

    std::vector<Result> TakeResults() { return std::move(results_); }

private:
    std::optional<size_t> Find(uint32_t seq) const {
        for (size_t i = chunk_begin_; i < next_; ++i)
            if (seqs_[i] == seq && !done_[i]) return i;
        return std::nullopt;
    }
    void Finish(size_t i, int error, std::string ext_ack) {
        if (done_[i]) return;
        done_[i] = true;
        results_[i].error = error;
        results_[i].ext_ack = std::move(ext_ack);
        if (chunk_pending_ > 0) --chunk_pending_;
    }

    std::vector<Request> requests_;
    std::vector<Result> results_;
    std::vector<bool> done_;
    std::vector<uint32_t> seqs_;
    size_t next_ = 0;
    size_t chunk_begin_ = 0;
    size_t chunk_pending_ = 0;
};

}  // namespace detail

// --- NetlinkSocket --------------------------------------------------------

DataplaneResult<NetlinkSocket> NetlinkSocket::Open() {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0)
        return DataplaneStatus::Unavailable(
            fmt::format("netlink socket: {}", std::strerror(errno)));
    int one = 1;
    // Best effort: older kernels lack these; errors then come without messages.
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    int rcvbuf = 1 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        int e = errno;
        ::close(fd);
        return DataplaneStatus::Unavailable(fmt::format("netlink bind: {}", std::strerror(e)));
    }
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        int e = errno;
        ::close(fd);
        return DataplaneStatus::Unavailable(
            fmt::format("netlink getsockname: {}", std::strerror(e)));
    }
    return NetlinkSocket(fd, addr.nl_pid);
}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), port_id_(o.port_id_), seq_(o.seq_) {}

NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        port_id_ = o.port_id_;
        seq_ = o.seq_;
    }
    return *this;
}

NetlinkSocket::~NetlinkSocket() {
    if (fd_ >= 0) ::close(fd_);
}

uint32_t NetlinkSocket::NextSequence() {
    if (++seq_ == 0) ++seq_;
    return seq_;
}

namespace {
// Sends a chunk; 0 or the errno.
int SendChunk(int fd, const std::vector<uint8_t>& chunk) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    iovec iov{const_cast<uint8_t*>(chunk.data()), chunk.size()};
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof(kernel);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    for (;;) {
        ssize_t n = ::sendmsg(fd, &msg, 0);
        if (n >= 0) return 0;
        if (errno == EINTR) continue;
        return errno;
    }
}
}  // namespace

std::vector<Result> NetlinkSocket::Transact(std::vector<Request> batch,
                                            std::chrono::milliseconds timeout) {
    detail::BatchRun run(std::move(batch));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<uint8_t> buf(kReceiveBuffer);
    while (!run.finished()) {
        std::vector<uint8_t> chunk = run.NextChunk(*this);
        if (chunk.empty()) break;
        if (int e = SendChunk(fd_, chunk)) {
            run.FailChunk(e);
            continue;
        }
        while (!run.chunk_done()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                run.FailAll(ETIMEDOUT);
                break;
            }
            pollfd p{fd_, POLLIN, 0};
            int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) continue;  // timeout: checked at the loop head
            ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                run.FailAll(errno);
                break;
            }
            run.Feed(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
        }
    }
    return run.TakeResults();
}

Result NetlinkSocket::Transact(Request request, std::chrono::milliseconds timeout) {
    std::vector<Request> batch;
    batch.push_back(std::move(request));
    auto results = Transact(std::move(batch), timeout);
    return std::move(results.front());
}

std::optional<int32_t> ResolveIndex(NetlinkSocket& socket, std::string_view name) {
    Result r = socket.Transact(Request{GetLink(name), fmt::format("link get {}", name)});
    if (!r.ok() || r.replies.empty()) return std::nullopt;
    auto info = ParseLink(r.replies.front());
    if (!info || info->name != name) return std::nullopt;
    return info->index;
}

std::vector<LinkInfo> ListLinks(NetlinkSocket& socket) {
    Result r = socket.Transact(Request{DumpLinks(), "link dump"});
    std::vector<LinkInfo> out;
    if (!r.ok()) return out;
    for (const auto& m : r.replies)
        if (auto info = ParseLink(m)) out.push_back(std::move(*info));
    return out;
}

std::optional<std::vector<NeighbourInfo>> ListNeighbours(NetlinkSocket& socket, uint8_t family,
                                                         int32_t ifindex, std::string* error) {
    Result r = socket.Transact(Request{DumpNeighbours(family, ifindex), "neigh dump"});
    if (!r.ok()) {
        if (error) *error = r.ToString();
        return std::nullopt;
    }
    std::vector<NeighbourInfo> out;
    for (const auto& m : r.replies)
        if (auto n = ParseNeighbour(m)) {
            // Older kernels ignore the ifindex filter: apply it here too.
            if (ifindex != 0 && n->entry.ifindex != ifindex) continue;
            out.push_back(std::move(*n));
        }
    return out;
}

// --- AsyncNetlink ---------------------------------------------------------

namespace detail {

class AsyncNetlinkImpl : public std::enable_shared_from_this<AsyncNetlinkImpl> {
public:
    AsyncNetlinkImpl(boost::asio::io_context& io, NetlinkSocket socket,
                     std::chrono::milliseconds timeout)
        : io_(io), socket_(std::move(socket)), descriptor_(io), timer_(io), timeout_(timeout) {
        int fd = ::dup(socket_.fd());
        if (fd >= 0) descriptor_.assign(fd);
    }

    void Submit(std::vector<Request> batch, BatchCallback done) {
        queue_.push_back(Pending{BatchRun(std::move(batch)), std::move(done)});
        if (!running_) {
            running_ = true;
            boost::asio::post(io_, [self = shared_from_this()] { self->StartNext(); });
        }
    }

    void Close() {
        closed_ = true;
        queue_.clear();
        boost::system::error_code ec;
        descriptor_.cancel(ec);
        timer_.cancel();
    }

    size_t pending() const { return queue_.size(); }

private:
    struct Pending {
        BatchRun run;
        BatchCallback done;
    };

    void StartNext() {
        if (closed_) return;
        if (queue_.empty()) {
            running_ = false;
            return;
        }
        ++generation_;
        timer_.expires_after(timeout_);
        timer_.async_wait([self = shared_from_this(), gen = generation_](
                              const boost::system::error_code& ec) {
            if (ec || self->closed_ || gen != self->generation_ || self->queue_.empty()) return;
            self->queue_.front().run.FailAll(ETIMEDOUT);
            self->Complete();
        });
        SendChunks();
    }

    // Sends chunks until one is waiting for answers or the batch is over.
    void SendChunks() {
        BatchRun& run = queue_.front().run;
        while (!run.finished() && run.chunk_done()) {
            std::vector<uint8_t> chunk = run.NextChunk(socket_);
            if (chunk.empty()) break;
            if (int e = SendChunk(socket_.fd(), chunk)) run.FailChunk(e);
        }
        if (run.finished()) {
            Complete();
            return;
        }
        Wait();
    }

    void Wait() {
        descriptor_.async_wait(
            boost::asio::posix::stream_descriptor::wait_read,
            [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec) {
                if (ec || self->closed_ || gen != self->generation_) return;
                self->OnReadable();
            });
    }

    void OnReadable() {
        BatchRun& run = queue_.front().run;
        for (;;) {
            ssize_t n = ::recv(socket_.fd(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    spdlog::warn("netlink: receive failed: {}", std::strerror(errno));
                    run.FailAll(errno);
                }
                break;
            }
            run.Feed(std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(n)));
            if (run.chunk_done()) break;
        }
        if (run.chunk_done())
            SendChunks();
        else
            Wait();
    }

    void Complete() {
        ++generation_;  // stale waits and timers of this batch do nothing
        timer_.cancel();
        Pending p = std::move(queue_.front());
        queue_.pop_front();
        // The callback may submit more: StartNext is posted, never re-entered.
        boost::asio::post(io_, [self = shared_from_this()] { self->StartNext(); });
        if (p.done) p.done(p.run.TakeResults());
    }

    boost::asio::io_context& io_;
    NetlinkSocket socket_;
    boost::asio::posix::stream_descriptor descriptor_;
    boost::asio::steady_timer timer_;
    std::chrono::milliseconds timeout_;
    std::deque<Pending> queue_;
    std::vector<uint8_t> buffer_ = std::vector<uint8_t>(kReceiveBuffer);
    bool running_ = false;
    bool closed_ = false;
    uint64_t generation_ = 0;
};

}  // namespace detail

AsyncNetlink::AsyncNetlink(boost::asio::io_context& io, NetlinkSocket socket,
                           std::chrono::milliseconds timeout)
    : impl_(std::make_shared<detail::AsyncNetlinkImpl>(io, std::move(socket), timeout)) {}

AsyncNetlink::~AsyncNetlink() { impl_->Close(); }

void AsyncNetlink::Submit(std::vector<Request> batch, BatchCallback done) {
    impl_->Submit(std::move(batch), std::move(done));
}

size_t AsyncNetlink::pending_batches() const { return impl_->pending(); }

}  // namespace bagpipe::dataplane::netlink
