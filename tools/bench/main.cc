// bagpipe-bgp-bench: a neutral BGP load generator and exact route counter.
//
// Connects to a BGP speaker (or accepts its connections, --listen) as one
// injecting peer and K receiving-only peers ("clients"), pushes N generated
// routes pre-encoded with PackAnnouncements through PeerSession::SendUpdates
// at full speed (stopping on false, resuming in OnWritable), counts the
// distinct routes each client holds from the decoded UPDATEs, and prints one
// JSON object with the timings on stdout. Progress goes to stderr.
//
// Phases: connect (clients first, they announce their RTC routes and
// End-of-RIB) → inject (t = 0 is the first injected byte handed to the
// session) → wait until every client holds exactly its expected routes →
// optional flap of one client (--flap-client) → optional withdrawal of all
// routes (--withdraw) → stop the sessions (Cease) → report.
//
// --self-test runs the injector against a counter in the same process (the
// counter listens with a BgpListener, the injector connects to it), with no
// speaker in between: the tool's own limit.
//
// One thread, one io_context; see docs/bench-tool.md for the flags and the
// output fields.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bgp/session/listener.h"
#include "bgp/session/peer_session.h"
#include "bgp/wire/message.h"
#include "counter.h"
#include "routes.h"

namespace {

namespace asio = boost::asio;
using namespace bagpipe::bgp;
using namespace bagpipe::bench;
using Clock = std::chrono::steady_clock;
using nlohmann::ordered_json;

// Injected bytes are handed to the session in slices of about this size,
// cut at message boundaries.
constexpr size_t kSliceBytes = 64 * 1024;

struct Options {
    std::string target;
    uint16_t port = 179;
    uint32_t as = 64512;
    std::optional<uint32_t> peer_as;
    uint16_t hold_time = 90;
    std::string injector_address = "127.0.3.1";
    size_t clients = 1;
    std::string client_address_base = "127.0.3.11";
    std::vector<std::string> client_list;
    std::vector<std::string> families;
    size_t routes = 10000;
    size_t attr_sets = 1;
    size_t rts = 1;
    std::string next_hop;
    uint32_t label_base = 16;
    std::string rd_base;
    std::string client_rtc = "off";
    bool withdraw = false;
    size_t flap_client = 0;  // 1-based; 0: none
    double timeout = 300;
    std::optional<size_t> expect;
    bool no_inject = false;
    bool listen = false;
    bool self_test = false;
    std::string md5;
    bool add_path = false;
    bool extended_message = false;
    bool quiet = false;
    bool verbose = false;
    bool pretty = false;
    size_t high_water = 4u << 20;
};

std::optional<asio::ip::address> ParseAddress(const std::string& s) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(s, ec);
    if (ec) return std::nullopt;
    return a;
}

uint32_t BgpIdOf(const asio::ip::address& a, size_t fallback) {
    if (a.is_v4()) return a.to_v4().to_uint();
    return 0x7f000000u | static_cast<uint32_t>(fallback & 0xffffff);
}

long ReadStatusKib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const size_t n = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, n, field) == 0) return std::strtol(line.c_str() + n + 1, nullptr, 10);
    return -1;
}

double CpuSeconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Splits back-to-back messages into slices of about kSliceBytes.
std::vector<std::pair<size_t, size_t>> Slice(const Bytes& b) {
    std::vector<std::pair<size_t, size_t>> out;
    size_t start = 0, pos = 0;
    while (pos + kHeaderSize <= b.size()) {
        const size_t len = (size_t{b[pos + 16]} << 8) | b[pos + 17];
        if (pos + len - start > kSliceBytes && pos > start) {
            out.emplace_back(start, pos - start);
            start = pos;
        }
        pos += len;
    }
    if (pos > start) out.emplace_back(start, pos - start);
    return out;
}

class Bench;

// One of our BGP peers: the injector or a client.
struct Peer final : SessionListener {
    Bench* bench = nullptr;
    bool injector = false;
    size_t index = 0;  // clients: 1-based
    asio::ip::address local;
    std::unique_ptr<PeerSession> session;
    std::unique_ptr<BgpListener> listener;
    std::unique_ptr<RouteCounter> counter;  // clients

    size_t expected = 0;
    std::vector<uint32_t> rtc_imports;  // RT numbers announced as RTC routes
    bool rtc_default = false;
    bool rtc = false;  // negotiates RTC

    std::optional<Clock::time_point> established_at;  // first Established
    std::optional<Clock::time_point> complete_at;
    uint64_t established_count = 0;
    uint64_t downs = 0;
    std::string last_down;
    FamilySet families_missing;
    bool up = false;

    void OnEstablished(PeerSession& s, const NegotiatedSession& n) override;
    void OnDown(PeerSession& s, std::string_view reason, bool was_established) override;
    void OnUpdate(PeerSession& s, UpdateMessage&& u, const std::optional<DecodeError>& e) override;
    void OnWritable(PeerSession& s) override;

    std::string address() const { return local.to_string(); }
};

class Bench {
public:
    Bench(asio::io_context& io, Options o) : io_(io), o_(std::move(o)), timer_(io), progress_(io) {}

    int Run();

    // From the peers.
    void Established(Peer& p, const NegotiatedSession& n);
    void Down(Peer& p, std::string_view reason, bool was_established);
    void Update(Peer& p, UpdateMessage&& u, const std::optional<DecodeError>& e);
    void Writable(Peer& p);

private:
    enum class Phase { kConnect, kInject, kFlap, kWithdraw, kDone };

    bool Setup();  // false: usage error (printed)
    void Encode(const SessionContext& ctx);
    SessionContext PlannedContext() const;
    PeerSessionConfig ConfigFor(const Peer& p, FamilySet families, bool rtc_capable) const;
    void StartInjector();
    void StartInjection();
    void Pump();
    void PollDrain();
    void CheckProgress();
    void AllReceived();
    void StartFlap();
    void StartWithdraw();
    void Finish(bool timed_out);
    void Shutdown();
    void PrintProgress();
    void ArmProgress();
    double Rel(Clock::time_point t) const {
        return std::chrono::duration<double>(t - t0_.value_or(start_)).count();
    }
    ordered_json At(const std::optional<Clock::time_point>& t) const {
        return t ? ordered_json(std::round(Rel(*t) * 1e6) / 1e6) : ordered_json(nullptr);
    }
    bool AllClientsUp() const {
        for (const auto& c : clients_)
            if (!c->up) return false;
        return true;
    }
    size_t Held(const Peer& c) const { return c.counter->held(); }
    bool Complete(const Peer& c) const {
        if (o_.expect) return c.counter->held() == *o_.expect;
        return c.counter->wanted() == c.expected && c.counter->unwanted() == 0;
    }
    ordered_json Report(bool timed_out);

    asio::io_context& io_;
    Options o_;
    asio::steady_timer timer_;
    asio::steady_timer progress_;
    std::unique_ptr<asio::steady_timer> drain_;
    std::unique_ptr<asio::steady_timer> restart_;

    GenParams gen_;
    std::vector<FamilyPlan> plan_;
    FamilySet wire_families_;
    std::unique_ptr<RouteMatcher> matcher_;
    asio::ip::address target_;
    SessionContext encoded_ctx_;
    Bytes announce_;
    size_t announce_messages_ = 0;
    Bytes withdraw_;
    size_t injected_ = 0;
    double encode_s_ = 0;
    size_t reencoded_ = 0;

    std::unique_ptr<Peer> injector_;
    std::vector<std::unique_ptr<Peer>> clients_;

    Phase phase_ = Phase::kConnect;
    // The bytes being pushed and where the pump is.
    const Bytes* pushing_ = nullptr;
    std::vector<std::pair<size_t, size_t>> slices_;
    size_t next_slice_ = 0;
    bool pushing_done_ = false;

    Clock::time_point start_ = Clock::now();
    std::optional<Clock::time_point> t0_;
    std::optional<Clock::time_point> inject_done_;
    std::optional<Clock::time_point> first_received_;
    std::optional<Clock::time_point> all_received_;
    std::optional<Clock::time_point> flap_start_, flap_down_, flap_up_, flap_done_;
    std::optional<Clock::time_point> withdraw_start_, withdraw_sent_, withdraw_done_;
    size_t injector_resends_ = 0;
    std::string failure_;
    bool finished_ = false;
    int exit_code_ = 0;
};

void Peer::OnEstablished(PeerSession&, const NegotiatedSession& n) { bench->Established(*this, n); }
void Peer::OnDown(PeerSession&, std::string_view reason, bool was_established) {
    bench->Down(*this, reason, was_established);
}
void Peer::OnUpdate(PeerSession&, UpdateMessage&& u, const std::optional<DecodeError>& e) {
    bench->Update(*this, std::move(u), e);
}
void Peer::OnWritable(PeerSession&) { bench->Writable(*this); }

// ---------------------------------------------------------------------------
// Setup

SessionContext Bench::PlannedContext() const {
    SessionContext ctx;
    ctx.asn4 = true;
    ctx.extended_message = o_.extended_message;
    ctx.ibgp = gen_.ibgp;
    if (o_.add_path) ctx.add_path_send = wire_families_;
    return ctx;
}

void Bench::Encode(const SessionContext& ctx) {
    const auto t = Clock::now();
    announce_.clear();
    withdraw_.clear();
    announce_messages_ = 0;
    injected_ = 0;
    FamilySet eor;
    for (const FamilyPlan& f : plan_) {
        Encoded e = EncodeAnnouncements(gen_, f.family, f.count, ctx);
        announce_.insert(announce_.end(), e.bytes.begin(), e.bytes.end());
        announce_messages_ += e.messages;
        injected_ += e.nlri;
        eor.set(FamilyIndex(WireFamily(f.family)));
        if (o_.withdraw) {
            Encoded w = EncodeWithdrawals(gen_, f.family, f.count, ctx);
            withdraw_.insert(withdraw_.end(), w.bytes.begin(), w.bytes.end());
        }
    }
    for (size_t i = 1; i < kFamilyCount; ++i)
        if (eor.test(i)) {
            Bytes b = EncodeEndOfRib(static_cast<Family>(i));
            announce_.insert(announce_.end(), b.begin(), b.end());
        }
    encoded_ctx_ = ctx;
    encode_s_ = std::chrono::duration<double>(Clock::now() - t).count();
}

PeerSessionConfig Bench::ConfigFor(const Peer& p, FamilySet families, bool rtc_capable) const {
    PeerSessionConfig c;
    c.name = p.injector ? "injector " + p.address() : fmt::format("client{} {}", p.index, p.address());
    c.fsm.local_as = o_.as;
    c.fsm.peer_as = o_.peer_as.value_or(o_.as);
    c.fsm.local_bgp_id = BgpIdOf(p.local, p.index + 1);
    c.fsm.hold_time = o_.hold_time;
    if (rtc_capable) families.set(FamilyIndex(Family::kIpv4Rtc));
    c.fsm.families = families;
    if (o_.add_path) {
        c.fsm.add_path_send = p.injector ? families : FamilySet();
        c.fsm.add_path_receive = p.injector ? FamilySet() : families;
    }
    c.fsm.extended_message = o_.extended_message;
    c.fsm.passive = o_.listen || (o_.self_test && !p.injector);
    c.fsm.retry_min_ms = 1000;
    c.fsm.retry_max_ms = 5000;
    c.peer_address = target_;
    c.peer_port = o_.port;
    c.local_address = p.local;
    c.md5_password = o_.md5;
    c.high_water_bytes = o_.high_water;
    c.low_water_bytes = o_.high_water / 4;
    return c;
}

bool Bench::Setup() {
    auto usage = [](const std::string& why) {
        std::cerr << "bagpipe-bgp-bench: " << why << "\n";
        return false;
    };
    // Families and counts.
    if (o_.families.empty()) o_.families.push_back("vpnv4");
    for (const std::string& spec : o_.families) {
        std::string name = spec;
        size_t count = o_.routes;
        if (auto eq = spec.find_first_of("=:"); eq != std::string::npos) {
            name = spec.substr(0, eq);
            try {
                count = std::stoull(spec.substr(eq + 1));
            } catch (...) {
                return usage("bad route count in --family " + spec);
            }
        }
        auto f = BenchFamilyFromName(name);
        if (!f) return usage("unknown family " + name);
        bool merged = false;
        for (auto& p : plan_)
            if (p.family == *f) {
                p.count += count;
                merged = true;
            }
        if (!merged) plan_.push_back({*f, count});
        wire_families_.set(FamilyIndex(WireFamily(*f)));
    }
    // With --no-inject the plan still defines what the clients expect.

    // Addresses.
    auto inj = ParseAddress(o_.injector_address);
    if (!inj) return usage("bad --injector-address " + o_.injector_address);
    std::vector<asio::ip::address> client_addrs;
    if (!o_.client_list.empty()) {
        for (const auto& s : o_.client_list) {
            auto a = ParseAddress(s);
            if (!a) return usage("bad --client " + s);
            client_addrs.push_back(*a);
        }
    } else {
        auto base = ParseAddress(o_.client_address_base);
        if (!base || !base->is_v4()) return usage("bad --client-address-base " + o_.client_address_base);
        for (size_t i = 0; i < o_.clients; ++i)
            client_addrs.push_back(asio::ip::address_v4(base->to_v4().to_uint() + static_cast<uint32_t>(i)));
    }
    if (o_.self_test) {
        if (client_addrs.size() != 1) client_addrs.resize(1);
        if (o_.no_inject || o_.listen) return usage("--self-test excludes --no-inject and --listen");
        target_ = client_addrs[0];  // the injector connects to the counter
    } else {
        auto t = ParseAddress(o_.target);
        if (!t) return usage(o_.target.empty() ? "--target is required (or --self-test)"
                                               : "bad --target " + o_.target);
        target_ = *t;
    }
    if (o_.flap_client > client_addrs.size()) return usage("--flap-client beyond the clients");

    // Generator parameters.
    gen_.local_as = o_.as;
    gen_.ibgp = o_.peer_as.value_or(o_.as) == o_.as;
    if (o_.attr_sets == 0 || o_.rts == 0) return usage("--attr-sets and --rts must be at least 1");
    gen_.attr_sets = o_.attr_sets;
    gen_.rts = o_.rts;
    if (o_.as > 0xffff && o_.rts > 0xffff) return usage("--rts above 65535 needs a 2-octet --as");
    const std::string nh = o_.next_hop.empty() ? o_.injector_address : o_.next_hop;
    auto nha = IpAddress::Parse(nh);
    if (!nha || !nha->is_v4()) return usage("--next-hop must be an IPv4 address (got " + nh + ")");
    gen_.next_hop = *nha;
    gen_.label_base = o_.label_base;
    if (o_.label_base > kMaxMplsLabel) return usage("--label-base above 2^20-1");
    const std::string rd = o_.rd_base.empty() ? fmt::format("{}:1", o_.as) : o_.rd_base;
    auto rdv = ParseAdminValue(rd);
    if (!rdv) return usage("bad --rd-base " + rd);
    gen_.rd_base = *rdv;
    for (const auto& p : plan_) {
        if (p.family == BenchFamily::kRtc && o_.as > 0xffff && p.count > 32767)
            return usage("rtc: at most 32767 routes with a 4-octet --as");
        if (p.family == BenchFamily::kEvpnImet && rdv->kind != 0 &&
            rdv->number + p.count > 0x10000)
            return usage("evpn-imet: the RD numbers exceed 16 bits");
        if (p.count > (1ull << 31)) return usage("too many routes");
    }
    matcher_ = std::make_unique<RouteMatcher>(gen_, plan_);

    // Client RTC. Clients that receive injected RTC routes negotiate RTC, and
    // an RT Constraint speaker would then send them nothing else unless they
    // announce membership: "off" becomes "all" (the default RTC route).
    for (const auto& p : plan_)
        if (p.family == BenchFamily::kRtc && o_.client_rtc == "off") {
            o_.client_rtc = "all";
            if (!o_.quiet) std::cerr << "bench: --family rtc: clients use --client-rtc all\n";
        }
    bool rtc = o_.client_rtc != "off";
    double fraction = 1;
    bool rtc_default = false;
    if (o_.client_rtc == "all") {
        rtc_default = true;
    } else if (o_.client_rtc == "none") {
        fraction = 0;
    } else if (o_.client_rtc.rfind("fraction:", 0) == 0) {
        try {
            fraction = std::stod(o_.client_rtc.substr(9));
        } catch (...) {
            return usage("bad --client-rtc " + o_.client_rtc);
        }
        if (!(fraction > 0 && fraction <= 1)) return usage("--client-rtc fraction must be in (0, 1]");
    } else if (o_.client_rtc != "off") {
        return usage("--client-rtc must be off, all, none or fraction:F");
    }

    // Peers.
    if (!o_.no_inject) {
        injector_ = std::make_unique<Peer>();
        injector_->bench = this;
        injector_->injector = true;
        injector_->local = *inj;
    }
    const size_t step = fraction > 0 ? std::max<size_t>(1, static_cast<size_t>(std::llround(1 / fraction))) : 0;
    for (size_t j = 0; j < client_addrs.size(); ++j) {
        auto c = std::make_unique<Peer>();
        c->bench = this;
        c->index = j + 1;
        c->local = client_addrs[j];
        c->rtc = rtc;
        c->rtc_default = rtc_default;
        std::vector<bool> wanted;  // empty: all
        if (rtc && !rtc_default) {
            wanted.assign(o_.rts + 1, false);
            if (step > 0)
                for (size_t r = 1; r <= o_.rts; ++r)
                    if ((r - 1) % step == j % step) {
                        wanted[r] = true;
                        c->rtc_imports.push_back(static_cast<uint32_t>(r));
                    }
        }
        FamilySet counted = wire_families_;
        if (!rtc) counted.reset(FamilyIndex(Family::kIpv4Rtc));
        // Expected: generated routes of the families the client negotiates,
        // filtered by its imports for the families that carry a route target.
        size_t expected = 0;
        for (const auto& p : plan_) {
            if (!counted.test(FamilyIndex(WireFamily(p.family)))) continue;
            if (!CarriesRouteTarget(p.family) || wanted.empty()) {
                expected += p.count;
                continue;
            }
            for (size_t r = 1; r <= o_.rts && r <= p.count; ++r)
                if (wanted[r]) expected += (p.count - (r - 1) + o_.rts - 1) / o_.rts;
        }
        c->expected = o_.expect.value_or(expected);
        c->counter = std::make_unique<RouteCounter>(*matcher_, counted, std::move(wanted));
        clients_.push_back(std::move(c));
    }
    return true;
}

// ---------------------------------------------------------------------------
// Run

int Bench::Run() {
    if (!Setup()) return 2;
    try {
        if (injector_) Encode(PlannedContext());
    } catch (const std::exception& e) {
        std::cerr << "bagpipe-bgp-bench: " << e.what() << "\n";
        return 2;
    }
    if (!o_.quiet)
        fmt::print(stderr, "bench: encoded {} routes in {} UPDATEs ({} octets) in {:.3f} s\n",
                   injected_, announce_messages_, announce_.size(), encode_s_);
    start_ = Clock::now();

    // Clients first (in self-test: the counter's listener too).
    for (auto& c : clients_) {
        PeerSessionConfig cfg = ConfigFor(*c, wire_families_, c->rtc);
        if (o_.self_test) cfg.peer_address = injector_->local;  // the injector connects to it
        if (auto why = cfg.Validate()) {
            std::cerr << "bagpipe-bgp-bench: " << *why << "\n";
            return 2;
        }
        c->session = std::make_unique<PeerSession>(io_.get_executor(), cfg, *c);
        if (o_.listen || o_.self_test) {
            c->listener = std::make_unique<BgpListener>(io_.get_executor());
            if (auto ec = c->listener->Listen({c->local, o_.self_test ? uint16_t{0} : o_.port})) {
                std::cerr << fmt::format("bagpipe-bgp-bench: listen on {}: {}\n", c->address(),
                                         ec.message());
                return 2;
            }
            c->listener->AddPeer(*c->session);
        }
        c->session->Start();
    }
    // Connecting to a speaker: the injector starts once every client is up.
    if (injector_ && (o_.listen || o_.self_test || clients_.empty())) StartInjector();
    if (!injector_ && clients_.empty()) StartInjection();

    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.timeout)));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && !finished_) Finish(true);
    });
    ArmProgress();
    io_.run();
    return exit_code_;
}

void Bench::StartInjector() {
    if (injector_->session) return;
    PeerSessionConfig cfg = ConfigFor(*injector_, wire_families_, false);
    if (o_.self_test) cfg.peer_port = clients_[0]->listener->port();
    injector_->session = std::make_unique<PeerSession>(io_.get_executor(), cfg, *injector_);
    if (o_.listen) {
        injector_->listener = std::make_unique<BgpListener>(io_.get_executor());
        if (auto ec = injector_->listener->Listen({injector_->local, o_.port})) {
            failure_ = fmt::format("listen on {}: {}", injector_->address(), ec.message());
            Finish(false);
            return;
        }
        injector_->listener->AddPeer(*injector_->session);
    }
    injector_->session->Start();
}

void Bench::Established(Peer& p, const NegotiatedSession& n) {
    const auto now = Clock::now();
    if (!p.established_at) p.established_at = now;
    ++p.established_count;
    p.up = true;
    p.families_missing = n.families_missing;
    if (!o_.quiet)
        fmt::print(stderr, "bench: {} {} established (hold {}, families {})\n",
                   p.injector ? "injector" : fmt::format("client{}", p.index), p.address(), n.hold_time,
                   n.families.count());
    if (p.injector) {
        // Re-encode if the session negotiated otherwise than planned.
        const SessionContext& c = n.context;
        SessionContext want = encoded_ctx_;
        want.extended_message = c.extended_message;
        want.asn4 = c.asn4;
        want.add_path_send = c.add_path_send & wire_families_;
        if (want.extended_message != encoded_ctx_.extended_message || want.asn4 != encoded_ctx_.asn4 ||
            want.add_path_send != encoded_ctx_.add_path_send) {
            spdlog::warn("bench: negotiated session differs from the plan, re-encoding");
            Encode(want);
            ++reencoded_;
        }
        if (phase_ == Phase::kConnect) {
            if (AllClientsUp()) StartInjection();
        } else if (phase_ == Phase::kInject || phase_ == Phase::kFlap) {
            // The injector came back: the speaker dropped its routes; send again.
            ++injector_resends_;
            pushing_ = &announce_;
            slices_ = Slice(announce_);
            next_slice_ = 0;
            pushing_done_ = false;
            Pump();
        }
        return;
    }
    // A client: counts start from zero on every session.
    p.counter->SetAddPath(n.add_path_receive);
    Bytes out;
    if (p.rtc && n.families.test(FamilyIndex(Family::kIpv4Rtc)) &&
        (p.rtc_default || !p.rtc_imports.empty())) {
        Encoded e = EncodeRtcRoutes(gen_, p.rtc_imports, p.rtc_default,
                                    p.local.is_v4() ? IpAddress::V4(p.local.to_v4().to_uint()) : gen_.next_hop,
                                    n.context);
        out = std::move(e.bytes);
    }
    for (size_t i = 1; i < kFamilyCount; ++i)
        if (n.families.test(i)) {
            Bytes b = EncodeEndOfRib(static_cast<Family>(i));
            out.insert(out.end(), b.begin(), b.end());
        }
    p.session->SendUpdates(std::move(out));
    if (phase_ == Phase::kFlap && p.index == o_.flap_client) flap_up_ = now;
    if (phase_ == Phase::kConnect && AllClientsUp()) {
        if (!injector_)
            StartInjection();  // --no-inject: t = 0 is when every client is up
        else if (!injector_->session)
            StartInjector();
        else if (injector_->up)
            StartInjection();
    }
}

void Bench::Down(Peer& p, std::string_view reason, bool was_established) {
    if (!was_established) return;
    p.up = false;
    ++p.downs;
    p.last_down = std::string(reason);
    if (finished_) return;
    if (!o_.quiet)
        fmt::print(stderr, "bench: {} {} down: {}\n",
                   p.injector ? "injector" : fmt::format("client{}", p.index), p.address(), reason);
    const bool flapping = !p.injector && phase_ == Phase::kFlap && p.index == o_.flap_client;
    // (In a self-test the counter is the injector's peer: flapping it takes the injector down.)
    const bool expected_down = flapping || (o_.self_test && phase_ == Phase::kFlap);
    if (!expected_down && phase_ != Phase::kConnect && failure_.empty())
        failure_ = fmt::format("{} {} went down: {}",
                               p.injector ? "injector" : fmt::format("client{}", p.index),
                               p.address(), reason);
    if (!p.injector) {
        p.counter->Reset();
        if (flapping && !flap_down_) {
            flap_down_ = Clock::now();
            // Reconnect shortly (Stop disabled the session).
            restart_ = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(100));
            restart_->async_wait([this, &p](const boost::system::error_code& ec) {
                if (!ec && !finished_) p.session->Start();
            });
        } else if (phase_ != Phase::kDone) {
            p.complete_at.reset();
        }
    }
}

void Bench::Update(Peer& p, UpdateMessage&& u, const std::optional<DecodeError>& e) {
    if (p.injector || finished_) return;
    const size_t before = p.counter->held();
    p.counter->Apply(u, e);
    if (!first_received_ && t0_ && p.counter->held() > before) first_received_ = Clock::now();
    CheckProgress();
}

void Bench::Writable(Peer& p) {
    if (p.injector) Pump();
}

// ---------------------------------------------------------------------------
// Injection

void Bench::StartInjection() {
    phase_ = Phase::kInject;
    t0_ = Clock::now();
    if (!injector_) {
        inject_done_ = t0_;
        CheckProgress();
        return;
    }
    pushing_ = &announce_;
    slices_ = Slice(announce_);
    next_slice_ = 0;
    pushing_done_ = false;
    Pump();
    CheckProgress();
}

void Bench::Pump() {
    if (!pushing_ || pushing_done_ || !injector_->session->established()) return;
    while (next_slice_ < slices_.size()) {
        const auto [off, len] = slices_[next_slice_];
        Bytes b(pushing_->begin() + static_cast<ptrdiff_t>(off),
                pushing_->begin() + static_cast<ptrdiff_t>(off + len));
        ++next_slice_;
        if (!injector_->session->SendUpdates(std::move(b))) {
            if (!injector_->session->established()) {
                --next_slice_;  // dropped; OnEstablished starts again
                return;
            }
            if (next_slice_ < slices_.size()) return;  // OnWritable resumes
        }
    }
    pushing_done_ = true;
    PollDrain();
}

// Waits until the session's queue is empty: the kernel accepted every byte.
void Bench::PollDrain() {
    if (injector_->session->queued_bytes() == 0 || !injector_->session->established()) {
        const auto now = Clock::now();
        if (pushing_ == &announce_) {
            if (!inject_done_) inject_done_ = now;
        } else if (!withdraw_sent_) {
            withdraw_sent_ = now;
        }
        CheckProgress();
        return;
    }
    if (!drain_) drain_ = std::make_unique<asio::steady_timer>(io_);
    drain_->expires_after(std::chrono::microseconds(200));
    drain_->async_wait([this](const boost::system::error_code& ec) {
        if (!ec && !finished_) PollDrain();
    });
}

void Bench::CheckProgress() {
    if (finished_) return;
    const auto now = Clock::now();
    switch (phase_) {
        case Phase::kConnect:
        case Phase::kDone: return;
        case Phase::kInject: {
            bool all = true;
            for (auto& c : clients_) {
                if (!c->complete_at && c->up && Complete(*c)) c->complete_at = now;
                if (!c->complete_at) all = false;
            }
            if (all && (!injector_ || inject_done_)) AllReceived();
            return;
        }
        case Phase::kFlap: {
            Peer& c = *clients_[o_.flap_client - 1];
            if (flap_up_ && c.up && Complete(c)) {
                flap_done_ = now;
                if (o_.withdraw)
                    StartWithdraw();
                else
                    Finish(false);
            }
            return;
        }
        case Phase::kWithdraw: {
            for (auto& c : clients_)
                if (c->counter->held() != 0) return;
            if (!withdraw_sent_) return;
            withdraw_done_ = now;
            Finish(false);
            return;
        }
    }
}

void Bench::AllReceived() {
    all_received_ = Clock::now();
    if (!o_.quiet)
        fmt::print(stderr, "bench: all {} clients complete at {:.3f} s\n", clients_.size(),
                   Rel(*all_received_));
    if (o_.flap_client)
        StartFlap();
    else if (o_.withdraw && injector_)
        StartWithdraw();
    else
        Finish(false);
}

void Bench::StartFlap() {
    phase_ = Phase::kFlap;
    flap_start_ = Clock::now();
    Peer& c = *clients_[o_.flap_client - 1];
    if (!o_.quiet) fmt::print(stderr, "bench: flapping client{} {}\n", c.index, c.address());
    c.session->Stop("bagpipe-bgp-bench flap");
}

void Bench::StartWithdraw() {
    phase_ = Phase::kWithdraw;
    withdraw_start_ = Clock::now();
    if (!o_.quiet) fmt::print(stderr, "bench: withdrawing\n");
    pushing_ = &withdraw_;
    slices_ = Slice(withdraw_);
    next_slice_ = 0;
    pushing_done_ = false;
    Pump();
    CheckProgress();
}

// ---------------------------------------------------------------------------
// Output

void Bench::ArmProgress() {
    progress_.expires_after(std::chrono::seconds(1));
    progress_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || finished_) return;
        PrintProgress();
        ArmProgress();
    });
}

void Bench::PrintProgress() {
    if (o_.quiet) return;
    std::string line = fmt::format("bench: [{:7.3f} s]", Rel(Clock::now()));
    if (injector_ && injector_->session)
        line += fmt::format(" injector {} out {} B queued {} B;", FsmStateName(injector_->session->state()),
                            injector_->session->stats().bytes_out, injector_->session->queued_bytes());
    for (auto& c : clients_)
        line += fmt::format(" client{} {}/{}", c->index, c->counter->held(), c->expected);
    fmt::print(stderr, "{}\n", line);
}

ordered_json Bench::Report(bool timed_out) {
    ordered_json j;
    j["mode"] = o_.self_test ? "self-test" : o_.listen ? "listen" : "connect";
    j["target"] = o_.self_test ? ordered_json(nullptr) : ordered_json(fmt::format("{}:{}", o_.target, o_.port));
    ordered_json fams = ordered_json::object();
    for (const auto& p : plan_) fams[std::string(BenchFamilyName(p.family))] = p.count;
    j["families"] = fams;
    j["injected"] = injector_ ? injected_ : 0;
    j["update_messages"] = injector_ ? announce_messages_ : 0;
    j["update_bytes"] = injector_ ? announce_.size() : 0;
    j["encode_s"] = std::round(encode_s_ * 1e6) / 1e6;
    bool uniform = true;
    for (auto& c : clients_) uniform = uniform && c->expected == clients_[0]->expected;
    if (uniform) {
        j["expected_per_client"] = clients_.empty() ? 0 : clients_[0]->expected;
    } else {
        ordered_json e = ordered_json::array();
        for (auto& c : clients_) e.push_back(c->expected);
        j["expected_per_client"] = e;
    }
    if (injector_) {
        ordered_json inj;
        inj["address"] = injector_->address();
        inj["established_s"] = At(injector_->established_at);
        if (injector_->session) {
            const PeerSessionStats s = injector_->session->stats();
            inj["bytes_out"] = s.bytes_out;
            inj["updates_out"] = s.counters.out(MessageType::kUpdate);
        }
        inj["downs"] = injector_->downs;
        if (reencoded_) inj["reencoded"] = reencoded_;
        if (injector_resends_) inj["resends"] = injector_resends_;
        j["injector"] = inj;
    }
    j["inject_done_s"] = At(inject_done_);
    j["first_received_s"] = At(first_received_);
    j["all_received_s"] = At(all_received_);
    ordered_json cl = ordered_json::array();
    bool ok = !timed_out && failure_.empty() && (!injector_ || inject_done_);
    for (auto& c : clients_) {
        ordered_json x;
        x["address"] = c->address();
        x["established_s"] = At(c->established_at);
        x["expected"] = c->expected;
        ordered_json rec = ordered_json::object();
        for (size_t i = 1; i < kFamilyCount; ++i) {
            const Family f = static_cast<Family>(i);
            if (wire_families_.test(i) || c->counter->received(f))
                rec[std::string(FamilyName(f))] = c->counter->received(f);
        }
        x["received"] = rec;
        x["held"] = c->counter->held();
        x["unwanted"] = c->counter->unwanted();
        x["complete_s"] = At(c->complete_at);
        x["updates"] = c->counter->updates();
        x["nlri_announced"] = c->counter->announced_nlri();
        x["nlri_withdrawn"] = c->counter->withdrawn_nlri();
        if (c->counter->errors()) x["update_errors"] = c->counter->errors();
        x["downs"] = c->downs;
        if (!c->last_down.empty()) x["last_down"] = c->last_down;
        if (c->families_missing.any()) {
            ordered_json m = ordered_json::array();
            for (size_t i = 1; i < kFamilyCount; ++i)
                if (c->families_missing.test(i)) m.push_back(FamilyName(static_cast<Family>(i)));
            x["families_missing"] = m;
        }
        if (c->rtc) x["rtc_routes"] = c->rtc_default ? 1 : c->rtc_imports.size();
        cl.push_back(x);
        if (!c->complete_at) ok = false;
    }
    j["clients"] = cl;
    if (all_received_ && t0_) {
        const double s = Rel(*all_received_);
        j["routes_per_s"] = s > 0 ? static_cast<uint64_t>(std::llround(static_cast<double>(injector_ ? injected_ : 0) / s)) : 0;
    } else {
        j["routes_per_s"] = nullptr;
    }
    if (inject_done_ && injector_) {
        const double s = Rel(*inject_done_);
        j["inject_routes_per_s"] = s > 0 ? ordered_json(static_cast<uint64_t>(std::llround(static_cast<double>(injected_) / s))) : ordered_json(nullptr);
    }
    if (o_.flap_client) {
        ordered_json f;
        f["client"] = o_.flap_client;
        f["start_s"] = At(flap_start_);
        f["down_s"] = At(flap_down_);
        f["reestablished_s"] = At(flap_up_);
        f["complete_s"] = At(flap_done_);
        f["after_reestablished_s"] =
            flap_done_ && flap_up_
                ? ordered_json(std::round(std::chrono::duration<double>(*flap_done_ - *flap_up_).count() * 1e6) / 1e6)
                : ordered_json(nullptr);
        f["reconverge_s"] = flap_done_ ? ordered_json(std::round(std::chrono::duration<double>(*flap_done_ - *flap_start_).count() * 1e6) / 1e6) : ordered_json(nullptr);
        j["flap"] = f;
        if (!flap_done_) ok = false;
    }
    if (o_.withdraw) {
        j["withdraw_start_s"] = At(withdraw_start_);
        j["withdraw_sent_s"] = At(withdraw_sent_);
        j["withdraw_done_s"] = At(withdraw_done_);
        j["withdraw_s"] = withdraw_done_ ? ordered_json(std::round(std::chrono::duration<double>(*withdraw_done_ - *withdraw_start_).count() * 1e6) / 1e6) : ordered_json(nullptr);
        if (!withdraw_done_ && injector_) ok = false;
    }
    j["cpu_s"] = std::round(CpuSeconds() * 1e3) / 1e3;
    j["rss_kib"] = ReadStatusKib("VmRSS:");
    j["peak_rss_kib"] = ReadStatusKib("VmHWM:");
    j["timed_out"] = timed_out;
    if (!failure_.empty()) j["error"] = failure_;
    j["ok"] = ok;
    exit_code_ = ok ? 0 : 1;
    return j;
}

void Bench::Finish(bool timed_out) {
    if (finished_) return;
    if (timed_out && !o_.quiet) fmt::print(stderr, "bench: timeout after {} s\n", o_.timeout);
    PrintProgress();
    ordered_json j = Report(timed_out);
    finished_ = true;
    phase_ = Phase::kDone;
    std::cout << j.dump(o_.pretty ? 2 : -1) << std::endl;
    Shutdown();
}

void Bench::Shutdown() {
    if (!o_.verbose) spdlog::set_level(spdlog::level::err);  // our own Cease is no news
    timer_.cancel();
    progress_.cancel();
    if (drain_) drain_->cancel();
    if (restart_) restart_->cancel();
    for (auto& c : clients_)
        if (c->session) c->session->Stop();
    if (injector_ && injector_->session) injector_->session->Stop();
    // Let the NOTIFICATIONs go out, then leave.
    timer_.expires_after(std::chrono::milliseconds(300));
    timer_.async_wait([this](const boost::system::error_code&) { io_.stop(); });
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{
        "bagpipe-bgp-bench: BGP load generator. Injects generated routes into a speaker as one "
        "peer, counts what K receiving peers get (exact, distinct routes), prints timings as one "
        "JSON object on stdout. See docs/bench-tool.md."};
    app.get_formatter()->column_width(36);
    app.option_defaults()->always_capture_default();
    app.add_option("--target", o.target, "Speaker address to connect to (or to accept from, --listen)");
    app.add_option("--port", o.port, "Speaker's BGP port; with --listen, our listening port");
    app.add_option("--as", o.as, "Our AS number (4-octet)");
    app.add_option("--peer-as", o.peer_as, "The speaker's AS (default: --as, iBGP)");
    app.add_option("--hold-time", o.hold_time, "Hold time we offer, seconds (0 or >= 3)");
    app.add_option("--injector-address", o.injector_address, "Local address of the injecting peer");
    app.add_option("--clients", o.clients, "Number of receiving-only peers (addresses from --client-address-base)");
    app.add_option("--client-address-base", o.client_address_base,
                   "First client address; client j uses base + j - 1");
    app.add_option("--client", o.client_list, "Explicit client address (repeatable; overrides --clients)");
    app.add_option("--family", o.families,
                   "vpnv4|vpnv6|evpn-mac|evpn-imet|evpn-prefix|rtc|ipv4, optionally NAME=N for N routes "
                   "of it (repeatable; default vpnv4)")
        ->default_str("vpnv4");
    app.add_option("--routes", o.routes, "Routes per family given without =N");
    app.add_option("--attr-sets", o.attr_sets, "Distinct attribute sets (MED = i % K)");
    app.add_option("--rts", o.rts, "Distinct route targets <as>:1..R; route i gets (i % R) + 1");
    app.add_option("--next-hop", o.next_hop, "IPv4 next hop of the routes (default: the injector address)");
    app.add_option("--label-base", o.label_base, "MPLS label of every route (EVPN: VNI = 16 * L + 1)");
    app.add_option("--rd-base", o.rd_base, "Route distinguisher ADMIN:N (default <as>:1; IMET i uses N + i)");
    app.add_option("--client-rtc", o.client_rtc,
                   "off: no RTC capability; all: default RTC route; none: RTC, no route; fraction:F: "
                   "client j imports RTs j, j+1/F, ...");
    app.add_flag("--withdraw", o.withdraw, "After full tables, withdraw everything and time until all clients hold 0");
    app.add_option("--flap-client", o.flap_client, "After full tables, restart client J (1-based) and time its re-convergence");
    app.add_option("--timeout", o.timeout, "Give up after S seconds (exit 1, report what was received)");
    app.add_option("--expect", o.expect, "Routes each client must hold (overrides the computed figure)");
    app.add_flag("--no-inject", o.no_inject, "No injector: only count (t = 0 when all clients are up)");
    app.add_flag("--listen", o.listen, "Passive: accept the speaker's connections on our addresses (--port)");
    app.add_flag("--self-test", o.self_test, "Injector -> counter in this process, no speaker: the tool's own limit");
    app.add_option("--md5", o.md5, "TCP-MD5 (RFC 2385) password on every session");
    app.add_flag("--add-path", o.add_path, "Offer ADD-PATH (send on the injector, receive on clients)");
    app.add_flag("--extended-message", o.extended_message, "Offer RFC 8654 extended messages (UPDATEs up to 65535 octets)");
    app.add_option("--high-water", o.high_water, "Injector output queue bound, octets (low water = 1/4)");
    app.add_flag("--pretty", o.pretty, "Indent the JSON output");
    app.add_flag("-q,--quiet", o.quiet, "No progress lines on stderr");
    app.add_flag("-v,--verbose", o.verbose, "Session logs (info) on stderr");
    CLI11_PARSE(app, argc, argv);

    // The session layer logs through spdlog's default logger: keep stdout for the JSON.
    auto logger = spdlog::stderr_color_mt("bench");
    spdlog::set_default_logger(logger);
    spdlog::set_level(o.verbose ? spdlog::level::info : o.quiet ? spdlog::level::err : spdlog::level::warn);

    asio::io_context io(1);
    Bench bench(io, std::move(o));
    return bench.Run();
}
