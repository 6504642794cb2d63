// From the daemon configuration (config/config.h) to the BGP speaker's
// (bgp/speaker/speaker.h): the one place that knows both.
#pragma once

#include "bgp/speaker/speaker.h"
#include "config/config.h"

namespace bagpipe::daemon {

bgp::SpeakerConfig MakeSpeakerConfig(const config::DaemonConfig& config);

boost::asio::ip::address ToAsio(const bgp::IpAddress& a);

}  // namespace bagpipe::daemon
