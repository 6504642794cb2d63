// The gmock doubles of tests/mocks/dataplane_mocks.h work as the VPN layer's
// tests will use them.
#include "mocks/dataplane_mocks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane_test_util.h"

namespace bagpipe::dataplane {
namespace {

using ::testing::_;
using ::testing::Field;
using ::testing::InSequence;
using ::testing::NiceMock;
using ::testing::Return;
using testing::MockDataplaneDriver;
using testing::MockVpnInstanceDataplane;
using testing::ReturnNewInstance;

TEST(DataplaneMocks, DriverDefaultsAndCreateInstance) {
    NiceMock<MockDataplaneDriver> driver;
    driver.SetDefaults(VpnType::kEvpn, test::Ip("127.0.1.1"));
    EXPECT_EQ(driver.type(), VpnType::kEvpn);
    EXPECT_EQ(driver.SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
    EXPECT_EQ(driver.ValidateDirection(Direction::kToPort).message(),
              "Unsupported direction: to-port");
    EXPECT_TRUE(driver.ValidateDirection(Direction::kBoth).ok());
    EXPECT_TRUE(driver.Initialize().ok());  // OK by default

    MockVpnInstanceDataplane* created = nullptr;
    EXPECT_CALL(driver, CreateInstance(Field(&InstanceConfig::instance_label, 16u)))
        .WillOnce(ReturnNewInstance(&created));
    auto r = driver.CreateInstance(test::Instance(1, "evpn-a", 16));
    ASSERT_TRUE(r.ok());
    ASSERT_NE(created, nullptr);
    EXPECT_EQ(r.value().get(), created);

    {
        InSequence seq;
        EXPECT_CALL(*created, AddBumEndpoint(Field(&BumEndpoint::vni, 5000u)));
        EXPECT_CALL(*created, Cleanup());
    }
    EXPECT_TRUE(r.value()->AddBumEndpoint(test::Bum("127.0.1.3", 5000)).ok());
    EXPECT_TRUE(r.value()->Cleanup().ok());
}

TEST(DataplaneMocks, ErrorsAsValues) {
    MockVpnInstanceDataplane instance;
    EXPECT_CALL(instance, SetupRemoteEndpoint(_))
        .WillOnce(Return(DataplaneStatus::InvalidArgument("no")));
    DataplaneStatus s = instance.SetupRemoteEndpoint(test::VpnRoute("10.0.0.2/32", "127.0.1.3", 1));
    EXPECT_EQ(s.code(), DataplaneErrorCode::kInvalidArgument);

    MockDataplaneDriver driver;
    EXPECT_CALL(driver, CreateInstance(_))
        .WillOnce(Return(::testing::ByMove(DataplaneResult<std::unique_ptr<VpnInstanceDataplane>>(
            DataplaneStatus::Unavailable("down")))));
    EXPECT_FALSE(driver.CreateInstance(InstanceConfig{}).ok());
}

}  // namespace
}  // namespace bagpipe::dataplane
