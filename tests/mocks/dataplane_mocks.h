// gmock doubles of the dataplane interface (src/dataplane/driver.h), for the
// VPN layer's tests: expect exact calls where the dummy driver's recorded
// state is not precise enough (order, counts, error paths).
//
// Every method returns OK by default (DataplaneStatus is default-constructible
// as OK); CreateInstance has no default (it returns a move-only value): give
// it an action, e.g. with ReturnNewInstance below. Use NiceMock<> to silence
// calls a test does not care about.
#pragma once

#include <gmock/gmock.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "dataplane/driver.h"

namespace bagpipe::dataplane::testing {

class MockVpnInstanceDataplane : public VpnInstanceDataplane {
public:
    MOCK_METHOD(DataplaneStatus, VifPlugged,
                (const bgp::MacAddress& mac, const bgp::IpAddress& ip, const LocalPort& port,
                 uint32_t label, Direction direction),
                (override));
    MOCK_METHOD(DataplaneStatus, VifUnplugged,
                (const bgp::MacAddress& mac, const bgp::IpAddress& ip, const LocalPort& port,
                 uint32_t label, Direction direction, bool last_endpoint),
                (override));
    MOCK_METHOD(DataplaneStatus, SetupRemoteEndpoint, (const RemoteEndpoint& endpoint),
                (override));
    MOCK_METHOD(DataplaneStatus, RemoveRemoteEndpoint, (const RemoteEndpoint& endpoint),
                (override));
    MOCK_METHOD(DataplaneStatus, UpdateFallback, (const std::optional<Fallback>& fallback),
                (override));
    MOCK_METHOD(DataplaneStatus, Cleanup, (), (override));
    MOCK_METHOD(DataplaneStatus, AddTrafficClassifier,
                (const TrafficClassifier& classifier, uint32_t redirect_instance_id),
                (override));
    MOCK_METHOD(DataplaneStatus, RemoveTrafficClassifier, (const TrafficClassifier& classifier),
                (override));
    MOCK_METHOD(DataplaneStatus, AddBumEndpoint, (const BumEndpoint& endpoint), (override));
    MOCK_METHOD(DataplaneStatus, RemoveBumEndpoint, (const BumEndpoint& endpoint), (override));
    MOCK_METHOD(DataplaneStatus, SetGatewayPort,
                (std::string_view linuxif, const bgp::IpAddress& gateway_ip), (override));
    MOCK_METHOD(DataplaneStatus, GatewayPortDown, (std::string_view linuxif), (override));
    MOCK_METHOD(nlohmann::json, ToJson, (), (const, override));
};

class MockDataplaneDriver : public DataplaneDriver {
public:
    MOCK_METHOD(VpnType, type, (), (const, override));
    MOCK_METHOD(std::string_view, name, (), (const, override));
    MOCK_METHOD(DataplaneStatus, ResetState, (), (override));
    MOCK_METHOD(DataplaneStatus, Initialize, (), (override));
    MOCK_METHOD(DataplaneResult<std::unique_ptr<VpnInstanceDataplane>>, CreateInstance,
                (const InstanceConfig& config), (override));
    MOCK_METHOD(EncapsulationSet, SupportedEncapsulations, (), (const, override));
    MOCK_METHOD(bool, NeedsCleanupAssist, (), (const, override));
    MOCK_METHOD(DataplaneStatus, ValidateDirection, (Direction direction), (const, override));
    MOCK_METHOD(bool, EcmpSupport, (), (const, override));
    MOCK_METHOD(bgp::IpAddress, LocalAddress, (), (const, override));
    MOCK_METHOD(nlohmann::json, ToJson, (), (const, override));

    // Typical capabilities: `type`, named "mock", the original dummy's
    // encapsulations for that type, no ECMP, no cleanup assist, only `both`.
    void SetDefaults(VpnType vpn_type, bgp::IpAddress local_address = {}) {
        using ::testing::Return;
        ON_CALL(*this, type()).WillByDefault(Return(vpn_type));
        ON_CALL(*this, name()).WillByDefault(Return(std::string_view("mock")));
        ON_CALL(*this, SupportedEncapsulations())
            .WillByDefault(Return(vpn_type == VpnType::kIpVpn
                                      ? EncapsulationSet{Encapsulation::kDefault,
                                                         Encapsulation::kMpls}
                                      : EncapsulationSet{Encapsulation::kVxlan}));
        ON_CALL(*this, LocalAddress()).WillByDefault(Return(local_address));
        ON_CALL(*this, ValidateDirection(::testing::_))
            .WillByDefault([](Direction d) {
                return d == Direction::kBoth
                           ? DataplaneStatus::Ok()
                           : DataplaneStatus::InvalidArgument(
                                 std::string("Unsupported direction: ") +
                                 std::string(DirectionName(d)));
            });
    }
};

// An action for CreateInstance that hands out a new NiceMock instance and
// reports it through `*created` (owned by the caller of CreateInstance).
inline auto ReturnNewInstance(MockVpnInstanceDataplane** created = nullptr) {
    return [created](const InstanceConfig&)
               -> DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> {
        auto instance = std::make_unique<::testing::NiceMock<MockVpnInstanceDataplane>>();
        if (created) *created = instance.get();
        return std::unique_ptr<VpnInstanceDataplane>(std::move(instance));
    };
}

}  // namespace bagpipe::dataplane::testing
