// MakeDriver: the dummy driver for both types, the E-VPN linux driver,
// legacy aliases, and clear errors for drivers not built yet, unknown names
// and bad options.
#include "dataplane/driver_factory.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "dataplane/dummy/dummy_driver.h"
#include "dataplane/linux/evpn_linux_driver.h"
#include "dataplane_test_util.h"

namespace bagpipe::dataplane {
namespace {

config::DataplaneDriverConfig Config(std::string driver) {
    config::DataplaneDriverConfig c;
    c.driver = driver;
    c.configured_driver = driver;
    c.local_address = test::Ip("127.0.1.1");
    return c;
}

TEST(DriverFactory, DummyForBothTypes) {
    for (VpnType type : {VpnType::kIpVpn, VpnType::kEvpn}) {
        auto r = MakeDriver(type, Config("dummy"));
        ASSERT_TRUE(r.ok()) << r.status().message();
        DataplaneDriver& d = *r.value();
        EXPECT_EQ(d.type(), type);
        EXPECT_EQ(d.name(), "dummy");
        EXPECT_EQ(d.LocalAddress(), test::Ip("127.0.1.1"));
        EXPECT_NE(dynamic_cast<DummyDataplaneDriver*>(&d), nullptr);
    }
    auto evpn = MakeDriver(VpnType::kEvpn, Config("dummy"));
    EXPECT_EQ(evpn.value()->SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
}

TEST(DriverFactory, LegacyAlias) {
    auto r = MakeDriver(VpnType::kIpVpn, Config("DummyDataplaneDriver"));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r.value()->name(), "dummy");
    EXPECT_EQ(r.value()->ToJson()["config"]["dataplane_driver"], "DummyDataplaneDriver");
}

TEST(DriverFactory, RealDriversNeedTheEventLoop) {
    for (VpnType type : {VpnType::kIpVpn, VpnType::kEvpn}) {
        for (std::string name : {"linux", "ovs"}) {
            if (type == VpnType::kEvpn && name == "linux") continue;  // below
            auto r = MakeDriver(type, Config(name));
            ASSERT_FALSE(r.ok());
            EXPECT_EQ(r.status().code(), DataplaneErrorCode::kUnavailable);
            EXPECT_EQ(r.status().message(),
                      "dataplane driver '" + name + "' needs the daemon's event loop");
        }
    }
    auto alias = MakeDriver(VpnType::kIpVpn, Config("mpls_ovs_dataplane.MPLSOVSDataplaneDriver"));
    EXPECT_EQ(alias.status().message(), "dataplane driver 'ovs' needs the daemon's event loop");
}

// Only opens netlink sockets: nothing is reset or created here.
TEST(DriverFactory, EvpnLinux) {
    boost::asio::io_context io;
    auto r = MakeDriver(VpnType::kEvpn, Config("linux"), {.io = &io});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r.value()->name(), "linux");
    EXPECT_EQ(r.value()->type(), VpnType::kEvpn);
    EXPECT_NE(dynamic_cast<EvpnLinuxDriver*>(r.value().get()), nullptr);
    EXPECT_EQ(r.value()->SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
    EXPECT_EQ(r.value()->ToJson()["config"]["vxlan_dst_port"], 4789);
    // bagpipe-bgp-cleanup builds it without the event loop: ResetState only.
    auto cleanup = MakeDriver(VpnType::kEvpn, Config("linux"));
    ASSERT_TRUE(cleanup.ok()) << cleanup.status().message();
    InstanceConfig ic;
    ic.external_id = "x";
    ic.instance_label = 10;
    auto inst = cleanup.value()->CreateInstance(ic);
    EXPECT_EQ(inst.status().code(), DataplaneErrorCode::kFailedPrecondition);
    // Bad option.
    config::DataplaneDriverConfig c = Config("linux");
    c.options["vxlan_dst_port"] = "70000";
    auto bad = MakeDriver(VpnType::kEvpn, c, {.io = &io});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), DataplaneErrorCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("vxlan_dst_port"), std::string::npos);
    // IP-VPN linux (routing tables): opens its sockets only.
    auto ipvpn = MakeDriver(VpnType::kIpVpn, Config("linux"), {.io = &io});
    ASSERT_TRUE(ipvpn.ok()) << ipvpn.status().message();
    EXPECT_EQ(ipvpn.value()->type(), VpnType::kIpVpn);
    EXPECT_EQ(ipvpn.value()->SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
}

TEST(DriverFactory, OvsForIpVpnOnly) {
    boost::asio::io_context io;
    auto ipvpn = MakeDriver(VpnType::kIpVpn, Config("ovs"), {.io = &io});
    ASSERT_TRUE(ipvpn.ok()) << ipvpn.status().message();
    EXPECT_EQ(ipvpn.value()->name(), "ovs");
    EXPECT_EQ(ipvpn.value()->type(), VpnType::kIpVpn);
    auto evpn = MakeDriver(VpnType::kEvpn, Config("ovs"), {.io = &io});
    ASSERT_FALSE(evpn.ok());
    EXPECT_EQ(evpn.status().code(), DataplaneErrorCode::kUnavailable);
    EXPECT_EQ(evpn.status().message(), "dataplane driver 'ovs' is not available yet");
}

TEST(DriverFactory, UnknownDriver) {
    auto r = MakeDriver(VpnType::kEvpn, Config("vpp"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), DataplaneErrorCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "unknown evpn dataplane driver 'vpp' (dummy, linux, ovs)");
}

TEST(DriverFactory, BadDummyOption) {
    config::DataplaneDriverConfig c = Config("dummy");
    c.options["ecmp"] = "perhaps";
    auto r = MakeDriver(VpnType::kIpVpn, c);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("ecmp"), std::string::npos);
}

}  // namespace
}  // namespace bagpipe::dataplane
